import type { Channel, Direction, Status } from '@carecomms/core';
import type { Knex } from '../db/knex.js';
import { prepared, statementName } from './prepared.js';
import type { CorrespondenceRow, PatientRow, TenantRow } from './rows.js';

export interface NewCorrespondence {
  tenant_id: string;
  patient_id: string;
  practitioner_id: string | null;
  channel: Channel;
  direction: Direction;
  status: Status;
  body?: string | null;
  contact?: string | null;
  duration_seconds?: number | null;
  notes?: string | null;
  session?: Record<string, unknown> | null;
  provider_sid?: string | null;
  error_code?: string | null;
  segments?: number | null;
  created_at?: Date;
}

export interface HistoryQuery {
  tenantId: string;
  practitionerId: string;
  patientId?: string;
  channel?: Channel;
  direction?: Direction;
  /** Keyset: `created_at` as exact text (microseconds) and id of the last row seen. */
  before?: [string, string];
  limit: number;
}

/** The audit row written in the same statement as a change (see AuditRepository for the table). */
export interface AuditFields {
  actorType: string;
  actorId: string | null;
  action: string;
  requestId: string | null;
  ip: string | null;
}

/** SQL text of created_at with microseconds, UTC: the exact keyset value a cursor carries. */
const EXACT_CREATED_AT = `to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Every entry read or written comes back with its patient's name (entries are shown in lists spanning patients). */
const PATIENT_NAME = '(SELECT p.name FROM patients p WHERE p.id = correspondence.patient_id) AS patient_name';
const WITH_NAME = ['correspondence.*', PATIENT_NAME];

/** The correspondence history and its status events. */
export class CorrespondenceRepository {
  constructor(private readonly db: Knex) {}

  private one(db: Knex, where: Record<string, string>, lock = false): Promise<CorrespondenceRow | undefined> {
    const query = db('correspondence').select(WITH_NAME.map((c) => db.raw(c))).where(where).first();
    return (lock ? query.forUpdate() : query) as Promise<CorrespondenceRow | undefined>;
  }

  async insert(entry: NewCorrespondence, db: Knex = this.db): Promise<CorrespondenceRow> {
    const [row] = await db('correspondence')
      .insert({ ...entry, session: entry.session ? JSON.stringify(entry.session) : null })
      .returning(WITH_NAME.map((c) => db.raw(c)) as never);
    return row as CorrespondenceRow;
  }

  /**
   * Inserts an entry, its first status event and its audit rows in one
   * statement (one round trip instead of three, atomic even outside a
   * transaction). A duplicate provider SID fails it whole with a unique violation.
   */
  async insertRecorded(
    entry: NewCorrespondence,
    audit: AuditFields,
    db: Knex = this.db,
  ): Promise<CorrespondenceRow> {
    const insert = db('correspondence')
      .insert({ ...entry, session: entry.session ? JSON.stringify(entry.session) : null })
      .returning('*')
      .toSQL();
    const sql = `WITH c AS (${insert.sql}),
       e AS (INSERT INTO correspondence_events (correspondence_id, provider_sid, status) SELECT id, provider_sid, status FROM c),
       a AS (INSERT INTO audit_log (tenant_id, actor_type, actor_id, patient_id, action, request_id, ip)
             SELECT tenant_id, ?, ?, patient_id, ?, ?, ? FROM c)
       SELECT c.*, (SELECT p.name FROM patients p WHERE p.id = c.patient_id) AS patient_name FROM c`;
    const result = await prepared(
      db,
      statementName('insert_recorded', sql),
      db.raw(sql, [...insert.bindings, audit.actorType, audit.actorId, audit.action, audit.requestId, audit.ip] as never),
    );
    return (result.rows as CorrespondenceRow[])[0]!;
  }

  async findById(tenantId: string, id: string, db: Knex = this.db): Promise<CorrespondenceRow | undefined> {
    return this.one(db, { tenant_id: tenantId, id });
  }

  /**
   * An entry with what sending it needs to know of its tenant (the number it
   * sends from) and patient (opted out?), in one query: the outbox's read per message.
   */
  async findForSending(
    tenantId: string,
    id: string,
  ): Promise<{ entry: CorrespondenceRow; tenant: Pick<TenantRow, 'id' | 'twilio_phone_number'> | null; patient: Pick<PatientRow, 'id' | 'opted_out'> | null } | undefined> {
    const row = await this.db('correspondence as c')
      .leftJoin('tenants as t', 't.id', 'c.tenant_id')
      .leftJoin('patients as p', (j) => j.on('p.id', 'c.patient_id').andOn('p.tenant_id', 'c.tenant_id'))
      .where({ 'c.tenant_id': tenantId, 'c.id': id })
      .first('c.*', 'p.name as patient_name', 't.id as found_tenant_id', 't.twilio_phone_number as tenant_number', 'p.id as found_patient_id', 'p.opted_out as patient_opted_out');
    if (!row) return undefined;
    const { found_tenant_id, tenant_number, found_patient_id, patient_opted_out, ...entry } = row as CorrespondenceRow & {
      found_tenant_id: string | null;
      tenant_number: string | null;
      found_patient_id: string | null;
      patient_opted_out: boolean | null;
    };
    return {
      entry,
      tenant: found_tenant_id ? { id: found_tenant_id, twilio_phone_number: tenant_number } : null,
      patient: found_patient_id ? { id: found_patient_id, opted_out: patient_opted_out === true } : null,
    };
  }

  /** Locks an entry for a status change: by our id when the callback carries it, else by provider SID. */
  async lockForUpdate(target: { id?: string | null; providerSid?: string | null }, db: Knex): Promise<CorrespondenceRow | undefined> {
    if (target.id) return this.one(db, { id: target.id }, true);
    if (target.providerSid) return this.one(db, { provider_sid: target.providerSid }, true);
    return undefined;
  }

  async update(
    id: string,
    changes: Partial<Pick<CorrespondenceRow, 'status' | 'provider_sid' | 'error_code'>>,
    db: Knex = this.db,
  ): Promise<CorrespondenceRow> {
    const [row] = await db('correspondence')
      .where({ id })
      .update({ ...changes, updated_at: db.fn.now() })
      .returning(WITH_NAME.map((c) => db.raw(c)) as never);
    return row as CorrespondenceRow;
  }

  /** Updates an entry and writes its audit rows in one statement; returns the row as `update` does. */
  async updateAudited(
    id: string,
    changes: Partial<Pick<CorrespondenceRow, 'status' | 'provider_sid' | 'error_code'>>,
    audit: AuditFields,
    db: Knex = this.db,
  ): Promise<CorrespondenceRow> {
    const update = db('correspondence').where({ id }).update({ ...changes, updated_at: db.fn.now() }).returning('*').toSQL();
    const result = await db.raw(
      `WITH c AS (${update.sql}),
       a AS (INSERT INTO audit_log (tenant_id, actor_type, actor_id, patient_id, action, request_id, ip)
             SELECT tenant_id, ?, ?, patient_id, ?, ?, ? FROM c)
       SELECT c.*, (SELECT p.name FROM patients p WHERE p.id = c.patient_id) AS patient_name FROM c`,
      [...update.bindings, audit.actorType, audit.actorId, audit.action, audit.requestId, audit.ip] as never,
    );
    return (result.rows as CorrespondenceRow[])[0]!;
  }

  /** Records a status once per entry; false when it was already recorded (a duplicate webhook). */
  async recordEvent(
    event: { correspondenceId: string; providerSid: string | null; status: Status; details?: Record<string, unknown> | null },
    db: Knex = this.db,
  ): Promise<boolean> {
    const rows = await db('correspondence_events')
      .insert({
        correspondence_id: event.correspondenceId,
        provider_sid: event.providerSid,
        status: event.status,
        details: event.details ? JSON.stringify(event.details) : null,
      })
      .onConflict(['correspondence_id', 'status'])
      .ignore()
      .returning('id');
    return rows.length > 0;
  }

  async events(correspondenceId: string, db: Knex = this.db): Promise<Array<{ status: Status; provider_sid: string | null; created_at: Date }>> {
    return db('correspondence_events').where({ correspondence_id: correspondenceId }).orderBy('id').select('status', 'provider_sid', 'created_at');
  }

  async findByProviderSid(tenantId: string, providerSid: string, db: Knex = this.db): Promise<CorrespondenceRow | undefined> {
    return this.one(db, { tenant_id: tenantId, provider_sid: providerSid });
  }

  /** Of these patients, the one most recently texted (who a reply from their shared number most likely comes from). */
  async lastTextedPatient(patientIds: string[], db: Knex = this.db): Promise<string | null> {
    if (patientIds.length === 0) return null;
    const row = await db('correspondence')
      .whereIn('patient_id', patientIds)
      .andWhere({ channel: 'sms', direction: 'outbound' })
      .orderBy('created_at', 'desc')
      .first('patient_id');
    return (row as { patient_id: string } | undefined)?.patient_id ?? null;
  }

  /** A page of history, newest first, only of patients the practitioner may see. */
  async history(query: HistoryQuery): Promise<Array<CorrespondenceRow & { cursor_at: string }>> {
    const q = this.db('correspondence as c')
      .select('c.*', this.db.raw('p.name as patient_name'), this.db.raw(`${EXACT_CREATED_AT} as cursor_at`))
      .join('patients as p', 'p.id', 'c.patient_id')
      .where('c.tenant_id', query.tenantId)
      .whereExists((sub) =>
        sub
          .from('patient_access as a')
          .whereRaw('a.patient_id = c.patient_id')
          .andWhere('a.practitioner_id', query.practitionerId),
      );
    if (query.patientId) q.andWhere('c.patient_id', query.patientId);
    if (query.channel) q.andWhere('c.channel', query.channel);
    if (query.direction) q.andWhere('c.direction', query.direction);
    if (query.before) q.andWhereRaw('(c.created_at, c.id) < (?::timestamptz, ?::uuid)', query.before);
    const shape = `history_${query.patientId ? 'p' : ''}${query.channel ? 'c' : ''}${query.direction ? 'd' : ''}${query.before ? 'b' : ''}`;
    return prepared(this.db, shape, q.orderBy([{ column: 'c.created_at', order: 'desc' }, { column: 'c.id', order: 'desc' }]).limit(query.limit));
  }
}
