import type { Knex } from './knex.js';

/** Longest payload sent in one NOTIFY (PostgreSQL's limit is 8000 bytes). */
const MAX_PAYLOAD = 7000;

/** The shortest time between two NOTIFYs (see {@link Notifier}); a realtime event waits at most this long for its hint. */
export const NOTIFY_INTERVAL_MS = 10;

/**
 * NOTIFY after commit, coalesced, in a transaction of its own.
 *
 * PostgreSQL holds a global lock from a notifying transaction's commit until it
 * is durable, so a NOTIFY inside every write serialises all those commits
 * behind one fsync each (measured: ~70 webhook writes/s at 50 connections).
 * Here the write commits on its own (group commit applies), then one NOTIFY
 * carries every id committed meanwhile, comma-separated, with
 * synchronous_commit off: a notification is a hint, not data. Listeners must
 * treat it as such: a crash between the write's commit and the NOTIFY loses
 * the hint, never the row (the realtime hub also sweeps for recent events).
 *
 * At most one NOTIFY goes out every {@link NOTIFY_INTERVAL_MS}: the first
 * after a quiet spell goes at once, and what is queued within the interval
 * after it waits for the interval's end and goes together. Each NOTIFY costs
 * a transaction on the database and a message to every listening instance,
 * about 0.2 ms of CPU in all on this machine; under 1,166 webhooks/s, a
 * NOTIFY per turn of the event loop came to one for every two or three
 * webhooks.
 */
export class Notifier {
  private readonly pending = new Map<string, Set<string>>();
  private flushing: Promise<void> | null = null;
  /** When the last NOTIFY was sent (Date.now()). */
  private lastSent = 0;

  constructor(
    private readonly knex: Knex,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Sends `payload` on `channel` once `db` (a transaction or the pool) has committed. */
  after(db: Knex, channel: string, payload: string): void {
    const queue = () => this.queue(channel, payload);
    const trx = db as Knex.Transaction;
    if (trx.isTransaction) trx.executionPromise.then(queue, () => undefined);
    else queue();
  }

  /** Resolves when everything queued so far has been sent. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private queue(channel: string, payload: string): void {
    let set = this.pending.get(channel);
    if (!set) this.pending.set(channel, (set = new Set()));
    set.add(payload);
    this.schedule();
  }

  /** Sends what is pending at the end of this turn, or when the interval since the last NOTIFY is over. */
  private schedule(): void {
    if (this.flushing || this.pending.size === 0) return;
    const wait = this.lastSent + NOTIFY_INTERVAL_MS - Date.now();
    this.flushing = new Promise<void>((resolve) => (wait > 0 ? setTimeout(resolve, wait) : setImmediate(resolve))).then(() => this.flush());
  }

  private async flush(): Promise<void> {
    try {
      const batch = [...this.pending];
      this.pending.clear();
      this.lastSent = Date.now();
      // One statement, one round trip: its implicit transaction turns
      // synchronous commit off for itself (set_config's is_local) before notifying.
      const notifications = batch.flatMap(([channel, payloads]) => chunks([...payloads]).map((chunk) => [channel, chunk]));
      await this.knex.raw(
        `SELECT set_config('synchronous_commit', 'off', true), ${notifications.map(() => 'pg_notify(?, ?)').join(', ')}`,
        notifications.flat(),
      );
    } catch (error) {
      this.onError(error as Error);
    } finally {
      this.flushing = null;
      this.schedule();
    }
  }
}

function chunks(payloads: string[]): string[] {
  const out: string[] = [];
  let current = '';
  for (const payload of payloads) {
    if (current && current.length + payload.length + 1 > MAX_PAYLOAD) {
      out.push(current);
      current = '';
    }
    current = current ? `${current},${payload}` : payload;
  }
  out.push(current);
  return out;
}

const notifiers = new WeakMap<object, Notifier>();

export function registerNotifier(knex: Knex, notifier: Notifier): void {
  notifiers.set(knex.client.config, notifier);
}

/**
 * NOTIFY `channel` with `payload` after `db` commits (see {@link Notifier}).
 * Works with the pool or any transaction of a database opened by `openDatabase`.
 */
export function notifyAfterCommit(db: Knex, channel: string, payload: string): void {
  // A transaction's client is a copy of its pool's client sharing the same config object (knex's makeTxClient).
  const notifier = notifiers.get(db.client.config);
  if (!notifier) throw new Error('notifyAfterCommit: no notifier for this database');
  notifier.after(db, channel, payload);
}

/** Splits a coalesced payload back into the ids it carries. */
export function notifiedIds(payload: string): string[] {
  return payload.split(',').filter(Boolean);
}
