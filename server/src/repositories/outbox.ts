import { notifyAfterCommit } from '../db/notify.js';
import type { Knex } from '../db/knex.js';

/** NOTIFY channel that wakes outbox workers when a row is added. */
export const OUTBOX_CHANNEL = 'carecomms_outbox';

export type OutboxKind = 'sms.send';

export interface OutboxRow {
  id: string;
  tenant_id: string;
  kind: OutboxKind;
  correspondence_id: string;
  state: 'pending' | 'done' | 'failed';
  attempts: number;
  available_at: Date;
  locked_until: Date | null;
  locked_by: string | null;
  in_flight: boolean;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
}

/** A claimed row, with whether an earlier attempt's outcome is unknown. */
export interface ClaimedRow extends OutboxRow {
  was_in_flight: boolean;
}

/**
 * Durable work for the provider. Rows are claimed with FOR UPDATE SKIP LOCKED
 * under a lease, so workers in every instance share the queue and a row whose
 * worker died becomes claimable again when its lease runs out.
 */
export class OutboxRepository {
  constructor(private readonly db: Knex) {}

  /** Adds work inside the caller's transaction; workers are woken when it commits. */
  async enqueue(row: { tenantId: string; kind: OutboxKind; correspondenceId: string }, db: Knex = this.db): Promise<void> {
    await db('outbox').insert({ tenant_id: row.tenantId, kind: row.kind, correspondence_id: row.correspondenceId });
    notifyAfterCommit(db, OUTBOX_CHANNEL, 'new');
  }

  /**
   * Claims up to `limit` due rows for `leaseMs`. Marks each in flight, so that if
   * this worker dies mid-send the next claimant knows to check with the provider.
   */
  async claim(limit: number, leaseMs: number, workerId: string): Promise<ClaimedRow[]> {
    const result = await this.db.raw(
      `WITH next AS (
         SELECT id, in_flight AS was_in_flight FROM outbox
         WHERE state = 'pending' AND available_at <= now() AND (locked_until IS NULL OR locked_until < now())
         ORDER BY available_at, id
         LIMIT ?
         FOR UPDATE SKIP LOCKED
       )
       UPDATE outbox o
       SET locked_until = now() + (? * interval '1 millisecond'), locked_by = ?, attempts = o.attempts + 1,
           in_flight = true, updated_at = now()
       FROM next WHERE o.id = next.id
       RETURNING o.*, next.was_in_flight`,
      [limit, leaseMs, workerId],
    );
    return (result.rows as ClaimedRow[]).map((r) => ({ ...r, id: String(r.id) }));
  }

  /** Finishes a row this worker still holds; false when its lease was lost to another worker. */
  async finish(id: string, workerId: string, state: 'done' | 'failed', lastError: string | null = null): Promise<boolean> {
    const n = await this.db('outbox')
      .where({ id, locked_by: workerId, state: 'pending' })
      .update({ state, in_flight: false, locked_until: null, last_error: lastError, updated_at: this.db.fn.now() });
    return n > 0;
  }

  /** Puts a row back for a later attempt. `inFlight`: the failed attempt may have reached the provider. */
  async retryLater(id: string, workerId: string, delayMs: number, inFlight: boolean, lastError: string): Promise<boolean> {
    const n = await this.db('outbox')
      .where({ id, locked_by: workerId, state: 'pending' })
      .update({
        available_at: this.db.raw("now() + (? * interval '1 millisecond')", [Math.round(delayMs)]),
        locked_until: null,
        in_flight: inFlight,
        last_error: lastError,
        updated_at: this.db.fn.now(),
      });
    return n > 0;
  }

  /** Deletes finished rows older than `date` (the correspondence entry keeps the outcome). */
  async pruneFinishedBefore(date: Date): Promise<number> {
    return this.db('outbox').whereIn('state', ['done', 'failed']).andWhere('updated_at', '<', date).delete();
  }

  async findByCorrespondence(correspondenceId: string): Promise<OutboxRow | undefined> {
    return this.db<OutboxRow>('outbox').where({ correspondence_id: correspondenceId }).first();
  }
}
