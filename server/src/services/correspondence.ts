import type { Channel, CorrespondenceEntry, Direction, Status } from '@carecomms/core';
import { INBOUND_BATCH_CONCURRENCY, perTurn, REQUEST_BATCH_MAX, togetherOrEachAlone } from '../db/batch.js';
import type { JsonAnswer } from '../http/compressed.js';
import type { Knex } from '../db/knex.js';
import { notFound, unprocessable } from '../errors.js';
import type { AuditActor, AuditRepository } from '../repositories/audit.js';
import type {
  AuditFields,
  CorrespondenceRepository,
  ExpectedValues,
  InboundSmsEntry,
  InboundSmsResult,
  NewCorrespondence,
  RecordedChanges,
} from '../repositories/correspondence.js';
import { decodeCursor, encodeCursor, isUuid } from '../repositories/cursor.js';
import type { PatientKey, PatientRepository } from '../repositories/patients.js';
import type { RealtimeEventRepository } from '../repositories/realtime-events.js';
import { toCorrespondence, type CorrespondenceRow } from '../repositories/rows.js';
import type { TenantRepository } from '../repositories/tenants.js';
import type { PatientService } from './patients.js';

export interface HistoryOptions {
  patientId?: string;
  channel?: Channel;
  direction?: Direction;
  cursor?: string;
  limit: number;
}

export interface ExternalEntry {
  patient: string;
  practitioner?: string;
  channel: Channel;
  direction: Direction;
  status?: Status;
  body?: string;
  contact?: string;
  durationSeconds?: number;
  notes?: string;
  occurredAt?: string;
}

/** How a history page's JSON opens, before its entries. */
const ITEMS_OPEN = Buffer.from('{"items":');

const EXACT_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const auditFields = (actor: AuditActor, action: string): AuditFields => ({ actorType: actor.type, actorId: actor.id, action, requestId: actor.requestId, ip: actor.ip });

/** The correspondence history: reading it, and writing entries so every browser sees them live. */
export class CorrespondenceService {
  /** Inbound SMS waiting for the end of this turn of the event loop, or for the statement before them, to be written together (see `createInboundSms`). */
  private readonly inboundSms = perTurn((items: ReadonlyArray<{ sms: InboundSmsEntry; audit: AuditFields }>) => this.storeInboundSms(items), REQUEST_BATCH_MAX, INBOUND_BATCH_CONCURRENCY);

  constructor(
    private readonly db: Knex,
    private readonly correspondence: CorrespondenceRepository,
    private readonly patientService: PatientService,
    private readonly patients: PatientRepository,
    private readonly tenants: TenantRepository,
    private readonly audit: AuditRepository,
    private readonly events: RealtimeEventRepository,
  ) {}

  /**
   * A page of history and its audit rows: one statement. The history query
   * itself only returns entries of patients the practitioner may see, so a
   * non-empty page for one patient proves access; only an empty page asks
   * whether the patient is visible at all (404 when not, as for a missing one).
   * Answers the page as UTF-8 JSON (`{ items, nextCursor }`), its entries as
   * the database wrote them, in parts: the entries are the very Buffer kept
   * for the page while it is unchanged, which its compressed forms are kept with.
   */
  async history(key: PatientKey, options: HistoryOptions, actor: AuditActor): Promise<JsonAnswer> {
    const before = options.cursor
      ? (decodeCursor(options.cursor, (v) => v.length === 2 && EXACT_TIMESTAMP.test(v[0]!) && isUuid(v[1]!)) as [string, string])
      : undefined;
    if (options.patientId && !isUuid(options.patientId)) throw notFound('Patient');
    const page = await this.correspondence.history({ ...key, ...options, before }, auditFields(actor, 'correspondence.list'));
    if (options.patientId && page.found === 0) {
      await this.patientService.requireVisible(key, options.patientId);
      // An empty page of one patient's history is still a look at that patient.
      await this.audit.appendRead(actor, 'correspondence.list', [options.patientId]);
    }
    const nextCursor = page.found > options.limit && page.last_cursor_at && page.last_id ? encodeCursor([page.last_cursor_at, page.last_id]) : null;
    const end = `,"nextCursor":${JSON.stringify(nextCursor)}}`;
    return { parts: [ITEMS_OPEN, page.items, Buffer.from(end)], keptWith: page.items, variant: end };
  }

  /** Insert an entry and announce it, inside the caller's transaction. */
  async create(entry: NewCorrespondence, actor: AuditActor, trx: Knex): Promise<CorrespondenceEntry> {
    const row = await this.correspondence.insert(entry, trx);
    return this.announce(row, 'correspondence.created', actor, `correspondence.${entry.channel}.create`, trx);
  }

  /**
   * Insert an entry with its first status event, its audit rows and its
   * realtime event in one statement, inside the caller's transaction (or on its own: it is atomic).
   */
  async createRecorded(entry: NewCorrespondence, actor: AuditActor, db: Knex): Promise<CorrespondenceEntry> {
    const row = await this.correspondence.insertRecorded(entry, auditFields(actor, `correspondence.${entry.channel}.create`), db);
    this.events.notifyCommitted(row.realtime_event_id, db);
    return toCorrespondence(row);
  }

  /**
   * Stores a plain inbound SMS from a number exactly one patient of the
   * tenant has, sender lookup included: 'stored', 'duplicate' (its SID is
   * already stored), or null when no patient or several have the number and
   * nothing was written. Webhooks arriving together (in one turn of the event
   * loop, or while the statement before them runs: one runs at a time) are
   * written by one statement with one commit; the call resolves once that
   * commit is durable.
   */
  async createInboundSms(sms: InboundSmsEntry, actor: AuditActor): Promise<'stored' | 'duplicate' | null> {
    const result = await this.inboundSms.load({ sms, audit: auditFields(actor, 'correspondence.sms.create') });
    return result.outcome === 'not_one_sender' ? null : result.outcome;
  }

  /**
   * One statement for a batch of inbound SMS. A batch the database refuses
   * for a reason other than being unreachable (one message it cannot store,
   * say) is written one message at a time, so that one cannot fail the rest.
   */
  private async storeInboundSms(items: ReadonlyArray<{ sms: InboundSmsEntry; audit: AuditFields }>): Promise<Array<InboundSmsResult | Error>> {
    const results = await togetherOrEachAlone(items, (batch) => this.correspondence.insertInboundSms([...batch]));
    for (const result of results) if (!(result instanceof Error) && result.outcome === 'stored') this.events.notifyCommitted(result.realtimeEventId);
    return results;
  }

  /** Update an entry, audit and announce it in one statement, inside the caller's transaction. */
  async updateRecorded(id: string, changes: RecordedChanges, actor: AuditActor, action: string, trx: Knex): Promise<CorrespondenceEntry> {
    const entry = await this.updateRecordedIf(id, {}, changes, actor, action, trx);
    if (!entry) throw new Error(`correspondence ${id} vanished while locked`);
    return entry;
  }

  /**
   * The same, only if the entry still has the `expected` values (in one
   * statement of its own unless `db` is a transaction); null (nothing
   * written) when it has moved on.
   */
  async updateRecordedIf(
    id: string,
    expected: ExpectedValues,
    changes: RecordedChanges,
    actor: AuditActor,
    action: string,
    db: Knex = this.db,
  ): Promise<CorrespondenceEntry | null> {
    const row = await this.correspondence.updateAudited(id, changes, auditFields(actor, action), db, expected);
    if (!row) return null;
    this.events.notifyCommitted(row.realtime_event_id, db);
    return toCorrespondence(row);
  }

  /** Audit and publish a written row; returns its API shape. */
  async announce(row: CorrespondenceRow, type: 'correspondence.created' | 'correspondence.updated', actor: AuditActor, action: string, trx: Knex) {
    const entry = toCorrespondence(row);
    await this.audit.append(actor, action, [row.patient_id], trx);
    await this.events.publish({ tenantId: row.tenant_id, patientId: row.patient_id, type, payload: entry }, trx);
    return entry;
  }

  /** Host backend: log correspondence that happened elsewhere (e.g. an email). */
  async logExternal(tenantId: string, input: ExternalEntry, actor: AuditActor): Promise<CorrespondenceEntry> {
    return this.db.transaction(async (trx) => {
      const patient = await this.patients.findByExternalId(tenantId, input.patient, trx);
      if (!patient) {
        throw unprocessable('unknown_patient', `Unknown patient externalId: ${input.patient}`, [
          { path: 'body.patient', message: `unknown patient "${input.patient}"` },
        ]);
      }
      let practitionerId: string | null = null;
      if (input.practitioner) {
        const practitioner = await this.tenants.findPractitionerByExternalId(tenantId, input.practitioner, trx);
        if (!practitioner) {
          throw unprocessable('unknown_practitioner', `Unknown practitioner externalId: ${input.practitioner}`, [
            { path: 'body.practitioner', message: `unknown practitioner "${input.practitioner}"` },
          ]);
        }
        practitionerId = practitioner.id;
      }
      const contact = input.contact ?? (input.channel === 'email' ? patient.email : patient.phone);
      return this.create(
        {
          tenant_id: tenantId,
          patient_id: patient.id,
          practitioner_id: input.direction === 'inbound' ? null : practitionerId,
          channel: input.channel,
          direction: input.direction,
          status: input.status ?? 'logged',
          body: input.body ?? null,
          contact,
          duration_seconds: input.durationSeconds ?? null,
          notes: input.notes ?? null,
          ...(input.occurredAt ? { created_at: new Date(input.occurredAt) } : {}),
        },
        actor,
        trx,
      );
    });
  }
}
