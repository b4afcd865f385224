import type { Database } from '../db/database.js';
import { EVENTS_CHANNEL } from '../db/database.js';
import { notifiedIds } from '../db/notify.js';
import type { Logger } from '../logger.js';
import type { PatientRepository } from '../repositories/patients.js';
import type { RealtimeEventRepository, RealtimeEventRow } from '../repositories/realtime-events.js';
import { toCorrespondence, type CorrespondenceRow } from '../repositories/rows.js';

export interface OutgoingEvent {
  id: string;
  type: string;
  data: unknown;
}

export interface Subscriber {
  tenantId: string;
  practitionerId: string;
  send(event: OutgoingEvent): void;
}

const SWEEP_INTERVAL_MS = 5_000;
const SWEEP_WINDOW_S = 60;

/**
 * An event as browsers get it. Entries written in one statement with their
 * event (`CorrespondenceRepository.insertRecorded` / `updateAudited`) store
 * the entry's row, snake_case; it gets its API shape here. Other events store
 * the API shape already.
 */
function toOutgoing(row: RealtimeEventRow): OutgoingEvent {
  const payload = row.payload as Record<string, unknown>;
  const data = row.type.startsWith('correspondence.') && 'patient_id' in payload ? toCorrespondence(payload as unknown as CorrespondenceRow) : payload;
  return { id: String(row.id), type: row.type, data };
}

/**
 * Fans committed events out to the SSE sessions allowed to see them. Each
 * instance LISTENs on the database; a NOTIFY carries only event ids, the
 * events themselves are read back and checked against patient_access, so one
 * instance's write reaches every instance's browsers. Notifications are hints
 * (see `Notifier`): a sweep of the last minute's events every few seconds
 * delivers anything whose hint was lost, once.
 */
export class RealtimeHub {
  private readonly byPractitioner = new Map<string, Set<Subscriber>>();
  private pending = new Set<string>();
  private flushing: Promise<void> | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  /** Ids delivered recently, with when: what the sweep must not send twice. */
  private readonly delivered = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly events: RealtimeEventRepository,
    private readonly patients: PatientRepository,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.unlisten = await this.db.listen(
      EVENTS_CHANNEL,
      (payload) => this.enqueue(payload),
      (error) => this.logger.error({ err: { message: error.message } }, 'realtime listener failed'),
    );
    const prune = () => {
      this.events.pruneOlderThan(new Date(Date.now() - 24 * 3600_000)).catch(() => undefined);
    };
    this.pruneTimer = setInterval(prune, 3600_000);
    this.pruneTimer.unref();
    // Events from before this instance started are history (Last-Event-ID replays them), not news.
    const now = Date.now();
    for (const row of await this.events.recent(SWEEP_WINDOW_S)) this.delivered.set(String(row.id), now);
    this.sweepTimer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  /** Delivers events of the last minute that no notification brought (e.g. a writer crashed after commit). */
  async sweep(): Promise<void> {
    const cutoff = Date.now() - 2 * SWEEP_WINDOW_S * 1000;
    for (const [id, at] of this.delivered) if (at < cutoff) this.delivered.delete(id);
    if (this.byPractitioner.size === 0) return;
    try {
      const rows = await this.events.recent(SWEEP_WINDOW_S);
      const missed = rows.filter((r) => !this.delivered.has(String(r.id)));
      if (missed.length > 0) await this.deliverRows(missed);
    } catch (error) {
      this.logger.warn({ err: { message: (error as Error).message } }, 'realtime sweep failed');
    }
  }

  async stop(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.unlisten?.();
    this.unlisten = null;
    await this.flushing;
  }

  get subscriberCount(): number {
    let n = 0;
    for (const set of this.byPractitioner.values()) n += set.size;
    return n;
  }

  subscribe(subscriber: Subscriber): () => void {
    let set = this.byPractitioner.get(subscriber.practitionerId);
    if (!set) this.byPractitioner.set(subscriber.practitionerId, (set = new Set()));
    set.add(subscriber);
    return () => {
      set.delete(subscriber);
      if (set.size === 0) this.byPractitioner.delete(subscriber.practitionerId);
    };
  }

  /** Events a reconnecting session missed, in order. */
  async replay(tenantId: string, practitionerId: string, afterId: string): Promise<OutgoingEvent[]> {
    const rows = await this.events.replay(tenantId, practitionerId, afterId, 1000);
    return rows.map(toOutgoing);
  }

  private enqueue(payload: string): void {
    const ids = notifiedIds(payload).filter((id) => /^\d+$/.test(id));
    if (ids.length === 0) return;
    for (const id of ids) this.pending.add(id);
    this.flushing ??= Promise.resolve().then(() => this.flush());
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const ids = [...this.pending];
        this.pending = new Set();
        await this.deliver(ids);
      }
    } catch (error) {
      this.logger.error({ err: { message: (error as Error).message } }, 'realtime delivery failed');
    } finally {
      this.flushing = null;
    }
  }

  private async deliver(ids: string[]): Promise<void> {
    const fresh = ids.filter((id) => !this.delivered.has(id));
    // Seen now even with nobody listening: the sweep is for lost notifications,
    // not for pushing the past to sessions that connect later.
    const now = Date.now();
    for (const id of fresh) this.delivered.set(id, now);
    if (this.byPractitioner.size === 0 || fresh.length === 0) return;
    await this.deliverRows(await this.events.byIds(fresh));
  }

  private async deliverRows(rows: RealtimeEventRow[]): Promise<void> {
    const now = Date.now();
    for (const row of rows) this.delivered.set(String(row.id), now);
    const patientIds = [...new Set(rows.map((r) => r.patient_id).filter((id): id is string => id !== null))];
    const grants = await this.patients.practitionersWithAccess(patientIds);
    const allowed = new Map<string, string[]>();
    for (const g of grants) {
      const list = allowed.get(g.patient_id) ?? [];
      list.push(g.practitioner_id);
      allowed.set(g.patient_id, list);
    }
    for (const row of rows) {
      if (!row.patient_id) continue;
      const event = toOutgoing(row);
      for (const practitionerId of allowed.get(row.patient_id) ?? []) {
        for (const subscriber of this.byPractitioner.get(practitionerId) ?? []) {
          if (subscriber.tenantId === row.tenant_id) subscriber.send(event);
        }
      }
    }
  }
}
