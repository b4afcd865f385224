import type { CallStatus } from '@carecomms/core';
import type { Knex } from '../db/knex.js';

export interface CallRow {
  id: string;
  tenant_id: string;
  patient_id: string;
  practitioner_id: string | null;
  correspondence_id: string;
  provider: 'twilio' | 'sandbox';
  conference_name: string;
  identity: string;
  from_number: string;
  to_number: string;
  recording: boolean;
  conference_sid: string | null;
  practitioner_call_sid: string | null;
  patient_call_sid: string | null;
  status: CallStatus;
  on_hold: boolean;
  hold_sequence: number | null;
  answered_at: Date | null;
  ended_at: Date | null;
  duration_seconds: number | null;
  error_code: string | null;
  created_at: Date;
  updated_at: Date;
}

export type CallEventKind = 'leg-status' | 'conference' | 'recording' | 'ended';

export interface CallEventRow {
  id: string;
  call_id: string;
  kind: CallEventKind;
  sid: string | null;
  name: string;
  occurred_at: Date;
  sequence: number | null;
  details: Record<string, unknown> | null;
  dedupe_key: string;
}

export interface NewCallEvent {
  callId: string;
  kind: CallEventKind;
  sid: string | null;
  name: string;
  occurredAt: Date;
  sequence: number | null;
  details: Record<string, unknown> | null;
  dedupeKey: string;
}

export type CallChanges = Partial<
  Pick<CallRow, 'status' | 'on_hold' | 'hold_sequence' | 'answered_at' | 'ended_at' | 'duration_seconds' | 'error_code' | 'conference_sid' | 'practitioner_call_sid' | 'patient_call_sid'>
>;

/** Voice calls and the provider reports about them (knex only). */
export class CallRepository {
  constructor(private readonly db: Knex) {}

  async insert(
    row: Pick<
      CallRow,
      'id' | 'tenant_id' | 'patient_id' | 'practitioner_id' | 'correspondence_id' | 'provider' | 'conference_name' | 'identity' | 'from_number' | 'to_number' | 'recording'
    >,
    db: Knex = this.db,
  ): Promise<CallRow> {
    const [inserted] = await db('calls').insert(row).returning('*');
    return inserted as CallRow;
  }

  async findById(id: string, db: Knex = this.db): Promise<CallRow | undefined> {
    return db<CallRow>('calls').where({ id }).first();
  }

  async findInTenant(tenantId: string, id: string, db: Knex = this.db): Promise<CallRow | undefined> {
    return db<CallRow>('calls').where({ tenant_id: tenantId, id }).first();
  }

  /** The call one of its provider SIDs (conference, either leg) belongs to. */
  async findBySid(sid: string, db: Knex = this.db): Promise<CallRow | undefined> {
    return db<CallRow>('calls')
      .where({ conference_sid: sid })
      .orWhere({ practitioner_call_sid: sid })
      .orWhere({ patient_call_sid: sid })
      .first();
  }

  async lock(id: string, db: Knex): Promise<CallRow | undefined> {
    return db<CallRow>('calls').where({ id }).forUpdate().first();
  }

  async update(id: string, changes: CallChanges, db: Knex = this.db): Promise<CallRow> {
    const [row] = await db('calls')
      .where({ id })
      .update({ ...changes, updated_at: db.raw('clock_timestamp()') })
      .returning('*');
    return row as CallRow;
  }

  /** Calls still open that were created before `before` (nobody will report on them any more). */
  async staleOpen(before: Date, statuses: CallStatus[], limit: number): Promise<CallRow[]> {
    return this.db<CallRow>('calls').whereIn('status', statuses).andWhere('created_at', '<', before).orderBy('created_at').limit(limit);
  }

  /** Stores a report once; false when the same report was already stored (a duplicate webhook). */
  async recordEvent(event: NewCallEvent, db: Knex = this.db): Promise<boolean> {
    const rows = await db('call_events')
      .insert({
        call_id: event.callId,
        kind: event.kind,
        sid: event.sid,
        name: event.name,
        occurred_at: event.occurredAt,
        sequence: event.sequence,
        details: event.details ? JSON.stringify(event.details) : null,
        dedupe_key: event.dedupeKey,
      })
      .onConflict(['call_id', 'dedupe_key'])
      .ignore()
      .returning('id');
    return rows.length > 0;
  }

  async events(callId: string, db: Knex = this.db): Promise<CallEventRow[]> {
    return db<CallEventRow>('call_events').where({ call_id: callId }).orderBy([{ column: 'occurred_at' }, { column: 'id' }]);
  }
}
