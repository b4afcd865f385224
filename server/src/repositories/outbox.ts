import type { Status } from '@carecomms/core';
import type { Knex } from '../db/knex.js';
import { notifyAfterCommit } from '../db/notify.js';
import type { CorrespondenceRow, PatientRow, TenantRow } from './rows.js';

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

/**
 * A claimed row, with whether an earlier attempt's outcome is unknown, and what
 * sending its entry needs: the entry, its tenant (the number it sends from) and
 * its patient (opted out?); null where one is gone.
 */
export interface ClaimedRow extends OutboxRow {
  was_in_flight: boolean;
  entry: Pick<CorrespondenceRow, 'id' | 'status' | 'provider_sid' | 'contact' | 'body' | 'practitioner_id'> | null;
  tenant: Pick<TenantRow, 'id' | 'twilio_phone_number'> | null;
  patient: Pick<PatientRow, 'id' | 'opted_out'> | null;
}

/** A claimed row as the claim query returns it, before its entry, tenant and patient are grouped. */
type ClaimedSqlRow = OutboxRow & {
  was_in_flight: boolean;
  entry_id: string | null;
  entry_status: Status | null;
  entry_provider_sid: string | null;
  entry_contact: string | null;
  entry_body: string | null;
  entry_practitioner_id: string | null;
  found_tenant_id: string | null;
  tenant_number: string | null;
  found_patient_id: string | null;
  patient_opted_out: boolean | null;
};

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
       ),
       claimed AS (
         UPDATE outbox o
         SET locked_until = now() + (? * interval '1 millisecond'), locked_by = ?, attempts = o.attempts + 1,
             in_flight = true, updated_at = now()
         FROM next WHERE o.id = next.id
         RETURNING o.*, next.was_in_flight
       )
       SELECT claimed.*,
              c.id AS entry_id, c.status AS entry_status, c.provider_sid AS entry_provider_sid, c.contact AS entry_contact,
              c.body AS entry_body, c.practitioner_id AS entry_practitioner_id,
              t.id AS found_tenant_id, t.twilio_phone_number AS tenant_number, p.id AS found_patient_id, p.opted_out AS patient_opted_out
       FROM claimed
       LEFT JOIN correspondence c ON c.id = claimed.correspondence_id AND c.tenant_id = claimed.tenant_id
       LEFT JOIN tenants t ON t.id = c.tenant_id
       LEFT JOIN patients p ON p.id = c.patient_id AND p.tenant_id = c.tenant_id`,
      [limit, leaseMs, workerId],
    );
    return (result.rows as ClaimedSqlRow[]).map(
      ({ entry_id, entry_status, entry_provider_sid, entry_contact, entry_body, entry_practitioner_id, found_tenant_id, tenant_number, found_patient_id, patient_opted_out, ...row }) => ({
        ...row,
        id: String(row.id),
        entry: entry_id
          ? { id: entry_id, status: entry_status!, provider_sid: entry_provider_sid, contact: entry_contact, body: entry_body, practitioner_id: entry_practitioner_id }
          : null,
        tenant: found_tenant_id ? { id: found_tenant_id, twilio_phone_number: tenant_number } : null,
        patient: found_patient_id ? { id: found_patient_id, opted_out: patient_opted_out === true } : null,
      }),
    );
  }

  /**
   * Finishes rows this worker still holds, in one statement; returns the ids
   * it held (a row missing from them had its lease lost to another worker).
   */
  async finish(ids: string[], workerId: string, state: 'done' | 'failed', lastError: string | null = null, db: Knex = this.db): Promise<string[]> {
    const rows: Array<{ id: string | number }> = await db('outbox')
      .whereIn('id', ids)
      .andWhere({ locked_by: workerId, state: 'pending' })
      .update({ state, in_flight: false, locked_until: null, last_error: lastError, updated_at: db.fn.now() })
      .returning('id');
    return rows.map((r) => String(r.id));
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
