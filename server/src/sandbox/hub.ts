import { notifiedIds } from '../db/notify.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import { SANDBOX_CHANNEL, type SandboxMessageRow, type SandboxRepository } from '../repositories/sandbox.js';

type Listener = (row: SandboxMessageRow) => void;

/**
 * Tells simulator pages about their phone's messages as they arrive or change
 * status. Fed by NOTIFY, so a message sent by any instance reaches a simulator
 * connected to any other.
 */
export class SandboxPhoneHub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private unlisten: (() => Promise<void>) | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly repo: SandboxRepository,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.unlisten = await this.db.listen(SANDBOX_CHANNEL, (payload) => this.dispatch(payload));
  }

  async stop(): Promise<void> {
    await this.unlisten?.();
    this.unlisten = null;
    await this.chain;
  }

  subscribe(phone: string, listener: Listener): () => void {
    let set = this.listeners.get(phone);
    if (!set) this.listeners.set(phone, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(phone);
    };
  }

  private dispatch(payload: string): void {
    const ids = notifiedIds(payload).filter((id) => /^\d+$/.test(id));
    if (ids.length === 0 || this.listeners.size === 0) return;
    // In order: a status change must not overtake the message it belongs to.
    this.chain = this.chain.then(async () => {
      for (const id of ids) {
        try {
          const row = await this.repo.findById(id);
          if (row) for (const listener of this.listeners.get(row.phone) ?? []) listener(row);
        } catch (error) {
          this.logger.warn({ err: { message: (error as Error).message } }, 'sandbox event delivery failed');
        }
      }
    });
  }
}
