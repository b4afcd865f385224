import type { Channel, Direction, Status } from '@carecomms/core';
import type DataLoader from 'dataloader';
import { LRUCache } from 'lru-cache';
import { perTurn, REQUEST_BATCH_MAX, togetherOrEachAlone } from '../db/batch.js';
import type { Knex } from '../db/knex.js';
import { prepared, statementName } from './prepared.js';
import { correspondenceJsonSql, type CorrespondenceRow } from './rows.js';

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

/** A plain inbound SMS, to be stored against the one patient whose number it came from. */
export interface InboundSmsEntry {
  tenantId: string;
  /** E.164: the patient's number and the entry's contact. */
  from: string;
  body: string;
  providerSid: string | null;
  segments: number;
}

/** What became of one inbound SMS given to {@link CorrespondenceRepository.insertInboundSms}. */
export type InboundSmsResult =
  | { outcome: 'stored'; realtimeEventId: string }
  | { outcome: 'duplicate' }
  | { outcome: 'not_one_sender'; senders: number };

/**
 * See {@link CorrespondenceRepository.insertInboundSms}. Each input row gets
 * its entry's id up front (`gen_random_uuid()` in a CTE, evaluated once), so
 * the rows written map back to the list however many were skipped.
 */
const INSERT_INBOUND_SMS = `WITH input AS (
    SELECT x.*, gen_random_uuid() AS id
    FROM jsonb_to_recordset(?::jsonb) AS x(i int, tenant_id uuid, phone text, body text, provider_sid text, segments int,
      actor_type text, actor_id text, action text, request_id text, ip text)),
  sender AS (
    SELECT input.id, found.n, found.patient_id
    FROM input CROSS JOIN LATERAL (
      SELECT count(*)::int AS n, (array_agg(p.id))[1] AS patient_id
      FROM patients p WHERE p.tenant_id = input.tenant_id AND p.phone = input.phone) found),
  c AS (
    INSERT INTO correspondence (id, tenant_id, patient_id, practitioner_id, channel, direction, status, body, contact, provider_sid, segments)
    SELECT input.id, input.tenant_id, sender.patient_id, NULL, 'sms', 'inbound', 'received', input.body, input.phone, input.provider_sid, input.segments
    FROM input JOIN sender ON sender.id = input.id AND sender.n = 1
    ORDER BY input.i
    ON CONFLICT (tenant_id, provider_sid) WHERE provider_sid IS NOT NULL DO NOTHING
    RETURNING *),
  e AS (INSERT INTO correspondence_events (correspondence_id, provider_sid, status) SELECT id, provider_sid, status FROM c),
  a AS (
    INSERT INTO audit_log (tenant_id, actor_type, actor_id, patient_id, action, request_id, ip)
    SELECT c.tenant_id, input.actor_type, input.actor_id, c.patient_id, input.action, input.request_id, input.ip FROM c JOIN input ON input.id = c.id),
  named AS (SELECT c.*, (SELECT p.name FROM patients p WHERE p.id = c.patient_id) AS patient_name FROM c),
  r AS (
    INSERT INTO realtime_events (tenant_id, patient_id, type, payload)
    SELECT tenant_id, patient_id, 'correspondence.created', to_jsonb(named) FROM named ORDER BY created_at, id
    RETURNING id, (payload->>'id')::uuid AS entry_id)
  SELECT input.i, coalesce(sender.n, 0) AS senders, r.id AS realtime_event_id
  FROM input LEFT JOIN sender ON sender.id = input.id LEFT JOIN r ON r.entry_id = input.id
  ORDER BY input.i`;

/** What a status report changes on an SMS entry (see `updateAudited`). */
export type RecordedChanges = Partial<Pick<CorrespondenceRow, 'status' | 'provider_sid' | 'error_code'>>;

/** Values an entry must still have for a conditional update to apply (see `updateAudited`). */
export type ExpectedValues = Partial<Pick<CorrespondenceRow, 'status' | 'provider_sid'>>;

/** What a call or video visit changes on its entry. */
export interface EntryChanges {
  status?: string;
  duration_seconds?: number | null;
  session?: Record<string, unknown>;
  provider_sid?: string;
  error_code?: string | null;
  recording_sid?: string;
  notes?: string | null;
  contact?: string | null;
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

/**
 * SQL text naming one committed version of an entry's row: the transaction
 * that wrote it (`xmin`: any other committed version of the row was written
 * by another transaction, whichever column it changed and whoever wrote it)
 * and its `updated_at`, in case a transaction id is reused after wraparound.
 */
const ROW_VERSION = `c.xmin::text || ' ' || c.updated_at::text`;

/**
 * SQL text of a patient's name as a JSON string: what a page's names and a
 * kept rendering both record, so that the two compare.
 */
const nameJson = (name: string) => `to_json(${name})::text`;

/**
 * SQL text of one line of a page's listing (see {@link historySql}): the
 * entry's id and its row version, tab separated (ids and versions hold
 * neither tabs nor newlines). The page's patients' names are listed apart,
 * once per patient ({@link pageNames}), not once per entry.
 */
const LISTING_LINE = `c.id::text || E'\\t' || c.version`;

/**
 * SQL text of the names of a page's patients, from an array of their ids: a
 * line per patient, its id and its name as a JSON string (JSON escapes tabs
 * and newlines), tab separated, in id order; '' for none. A rename shows here.
 */
const pageNames = (patientIds: string) =>
  `(SELECT coalesce(string_agg(u.id::text || E'\\t' || (SELECT ${nameJson('p.name')} FROM patients p WHERE p.id = u.id), E'\\n' ORDER BY u.id), '')
    FROM unnest(${patientIds}) AS u(id))`;

/** The history reads of one batch, one row each (see {@link historySql}): what each asks for, and its audit fields. */
const HISTORY_READS = `jsonb_to_recordset(?::jsonb) AS r(i int, tenant_id uuid, practitioner_id uuid, patient_id uuid, channel text, direction text,
  before_at timestamptz, before_id uuid, kept_version bigint, kept_names text, actor_type text, actor_id text, action text, request_id text, ip text)`;

/**
 * SQL text of a patient's history version (see the history_versions
 * migration): moved by the database whenever an entry of that patient is
 * written; 0 before the first.
 */
const historyVersion = (patientId: string) => `coalesce((SELECT h.version FROM history_versions h WHERE h.patient_id = ${patientId}), 0)`;

/**
 * The history query of one shape (which filters are set) and page size, for
 * a batch of reads, with their audit rows: see
 * {@link CorrespondenceRepository.history}. Its one binding is the reads
 * ({@link HISTORY_READS}); every row answered carries its read's `i`.
 *
 * With `render`, one row per entry (one past the page when there is a next
 * page): its id, patient, version, patient name as JSON, its listing line,
 * API JSON and the cursor on the page's last entry. Without, a row per read: the
 * page's listing (a line per entry shown, {@link LISTING_LINE}), its
 * patients' names, the entries found (the page size + 1 when a next page
 * exists) and that cursor; one row to parse instead of 51.
 *
 * A page of one patient's history also answers the patient's history version,
 * read with the page. Read again without rendering, with the version and the
 * names it was last answered at (`kept_version`, `kept_names`): while the
 * patient's version, name and the practitioner's access are unchanged, its
 * entries are not read at all (`unchanged`: one index lookup each; the
 * audit row is for that patient, the one the page shows).
 *
 * The page size is written into the text: PostgreSQL then plans the page as
 * a LIMIT it knows, once per connection for the prepared statement.
 */
function historySql(query: HistoryQuery, render: boolean): string {
  const limit = query.limit;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`page size ${limit}`);
  const versioned = Boolean(query.patientId);
  const where = [
    'c.tenant_id = r.tenant_id',
    'EXISTS (SELECT 1 FROM patient_access a WHERE a.patient_id = c.patient_id AND a.practitioner_id = r.practitioner_id)',
    ...(query.patientId ? ['c.patient_id = r.patient_id'] : []),
    ...(query.channel ? ['c.channel = r.channel'] : []),
    ...(query.direction ? ['c.direction = r.direction'] : []),
    ...(query.before ? ['(c.created_at, c.id) < (r.before_at, r.before_id)'] : []),
  ];
  const cursor = `CASE WHEN c.n = ${limit} THEN ${EXACT_CREATED_AT} END`;
  // A listing statement's aggregate of each read's page (see ListingRow).
  const listingOf = `count(c.id)::int AS found, coalesce(string_agg(${LISTING_LINE}, E'\\n' ORDER BY c.n) FILTER (WHERE c.n <= ${limit}), '') AS listing,
        max(${cursor}) AS cursor_at`;
  const page = `(
        SELECT ${render ? 'c.*, p.name AS patient_name' : 'c.id, c.patient_id, c.created_at'}, ${ROW_VERSION} AS version,
          row_number() OVER (ORDER BY c.created_at DESC, c.id DESC) AS n
        FROM correspondence c ${render ? 'JOIN patients p ON p.id = c.patient_id' : ''}
        WHERE ${where.join(' AND ')}
        ORDER BY c.created_at DESC, c.id DESC LIMIT ${limit + 1}) c`;
  const audited = (seen: string, patientId = 'seen.patient_id', shown = 'true') => `audited AS (
      INSERT INTO audit_log (tenant_id, actor_type, actor_id, patient_id, action, request_id, ip)
      SELECT r.tenant_id, r.actor_type, r.actor_id, ${patientId}, r.action, r.request_id, r.ip
      FROM ${seen}
      WHERE ${shown} AND set_config('synchronous_commit', 'off', true) = 'off')`;
  if (render) {
    return `WITH r AS (SELECT *, ${versioned ? `${historyVersion('r.patient_id')}::text` : 'NULL::text'} AS history_version FROM ${HISTORY_READS}),
    page AS (SELECT r.i, r.history_version, c.* FROM r CROSS JOIN LATERAL ${page}),
    ${audited(`r JOIN (SELECT DISTINCT i, patient_id FROM page WHERE n <= ${limit}) seen ON seen.i = r.i`)}
    SELECT c.i, c.id, c.patient_id, c.version, ${nameJson('c.patient_name')} AS patient_name, ${LISTING_LINE} AS line, ${cursor} AS cursor_at,
      CASE WHEN c.n <= ${limit} THEN (${correspondenceJsonSql('c')})::text END AS json, c.history_version
    FROM page c ORDER BY c.i, c.n`;
  }
  if (versioned) {
    // The patient's version, name and the access to it first: the page is read only when one moved.
    return `WITH r AS (SELECT * FROM ${HISTORY_READS}),
    v AS MATERIALIZED (
      SELECT r.*, ${historyVersion('r.patient_id')} AS history_version,
        r.patient_id::text || E'\\t' || (SELECT ${nameJson('p.name')} FROM patients p WHERE p.id = r.patient_id AND p.tenant_id = r.tenant_id) AS names,
        (SELECT true FROM patient_access a WHERE a.patient_id = r.patient_id AND a.practitioner_id = r.practitioner_id) AS allowed
      FROM r),
    checked AS (
      SELECT v.*, coalesce(v.history_version = v.kept_version AND v.names = v.kept_names AND v.allowed, false) AS unchanged
      FROM v),
    listed AS (
      SELECT r.i, ${listingOf}, count(c.id) FILTER (WHERE c.n <= ${limit}) > 0 AS shown
      FROM checked r LEFT JOIN LATERAL ${page} ON true
      WHERE NOT r.unchanged
      GROUP BY r.i),
    ${audited('r JOIN checked k ON k.i = r.i LEFT JOIN listed ON listed.i = r.i', 'r.patient_id', '(k.unchanged OR coalesce(listed.shown, false))')}
    SELECT k.i, k.unchanged, k.history_version::text AS history_version, l.found, l.listing, l.cursor_at, CASE WHEN l.shown THEN k.names ELSE '' END AS names
    FROM checked k LEFT JOIN listed l ON l.i = k.i`;
  }
  // Aggregated as the page is read, so that only a row per read is kept for the audit insert to read.
  return `WITH r AS (SELECT * FROM ${HISTORY_READS}),
    listed AS (
      SELECT r.i, ${listingOf}, array_agg(DISTINCT c.patient_id) FILTER (WHERE c.n <= ${limit}) AS patients
      FROM r LEFT JOIN LATERAL ${page} ON true
      GROUP BY r.i),
    ${audited('r JOIN listed ON listed.i = r.i CROSS JOIN unnest(listed.patients) AS seen(patient_id)')}
    SELECT i, found, listing, cursor_at, ${pageNames('listed.patients')} AS names FROM listed`;
}

/**
 * Entries of one tenant in the API shape, as JSON text written by the
 * database (`correspondenceJsonSql`), with the version and patient name (as
 * JSON) each was rendered from. Bindings: the tenant, then the ids as a
 * PostgreSQL array literal.
 */
const RENDER_SQL = `SELECT x.id, x.patient_id, x.version, ${nameJson('x.patient_name')} AS patient_name, (${correspondenceJsonSql('x')})::text AS json
  FROM (SELECT c.*, ${ROW_VERSION} AS version, p.name AS patient_name
        FROM correspondence c JOIN patients p ON p.id = c.patient_id
        WHERE c.tenant_id = ? AND c.id = ANY(?::uuid[])) x`;

/** A page of history: see {@link CorrespondenceRepository.history}. */
export interface HistoryPage {
  /** The page's entries in the API shape, newest first: UTF-8 JSON of an array. Shared: never to be written to. */
  items: Buffer;
  /** Entries found: the page size + 1 when a next page exists. */
  found: number;
  /** The exact `created_at` (microseconds) and id of the page's last entry when the page is full, for the next cursor. */
  last_cursor_at: string | null;
  last_id: string | null;
}

/** A history read waiting for its statement: see {@link CorrespondenceRepository.history}. */
interface HistoryRead {
  query: HistoryQuery;
  audit: AuditFields;
  /** The page as last answered, when it showed entries of one patient: its version and names (see {@link historySql}). */
  kept: { version: string; names: string } | null;
}

/** What the history statement answers a read with, by its `i`: entries rendered (`render`), or its page's listing. */
type HistoryRow = { i: number } & (RenderedPageRow | ListingRow);
type RenderedPageRow = Omit<RenderedRow, 'json'> & { line: string; cursor_at: string | null; json: string | null; history_version: string | null };
interface ListingRow {
  /** A page of one patient's, read with its kept version and names: the patient's version, name and access are as they were (nothing else is listed). */
  unchanged?: boolean;
  /** The patient's history version the page was read at (one patient's pages only). */
  history_version?: string | null;
  listing: string;
  /** The page's patients' names: see {@link pageNames}. */
  names: string;
  found: number;
  cursor_at: string | null;
}

/** An entry rendered by the database, as the page statement or {@link RENDER_SQL} answers it. */
interface RenderedRow {
  id: string;
  patient_id: string;
  version: string;
  /** The patient's name as a JSON string. */
  patient_name: string;
  json: string;
}

/**
 * The names of the patients of a page just rendered, as {@link pageNames}
 * lists them (uuid order is the order of their text), so that its next read
 * can take the fast path. Were the two ever to differ, that read would only
 * check each entry's patient name instead (`correspondence.test.ts` holds them equal).
 */
const namesOf = (rows: ReadonlyArray<{ patient_id: string; patient_name: string }>): string =>
  [...new Map(rows.map((row) => [row.patient_id, row.patient_name]))]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, name]) => `${id}\t${name}`)
    .join('\n');

/** A page's answer; the cursor is on the last entry listed. */
const page = (items: Buffer, found: number, cursorAt: string | null, listing: string): HistoryPage => ({
  items,
  found,
  last_cursor_at: cursorAt,
  last_id: cursorAt === null ? null : listing.slice(listing.lastIndexOf('\n') + 1).split('\t')[0]!,
});

/** An entry as rendered for a page, and the row version, patient and patient name (as JSON) it was rendered from. */
interface RenderedEntry {
  version: string;
  patientId: string;
  patientName: string;
  json: string;
}

/**
 * A page as last answered: the database's listing of it and its patients'
 * names (see {@link historySql}), the entries answered for them, and for a
 * page of one patient's, the patient's history version it was read at.
 */
interface AnsweredPage {
  listing: string;
  names: string;
  items: Buffer;
  version: string | null;
  found: number;
  cursorAt: string | null;
}

/** Rendered entries kept, in characters of JSON (the entries most read stay; about 25,000 entries). */
const RENDERED_MAX_CHARS = 16 * 2 ** 20;
/** Pages' last answers kept, in bytes (about 500 pages of 50 entries). */
const ANSWERED_MAX_BYTES = 16 * 2 ** 20;

const toInsert = (entry: NewCorrespondence) => ({ ...entry, session: entry.session ? JSON.stringify(entry.session) : null });

/** An entry written with its audit rows and realtime event, and that event's id. */
export type RecordedRow = CorrespondenceRow & { realtime_event_id: string };

/**
 * The rest of a statement whose CTE `c` inserted or updated one entry: its
 * audit rows, its realtime event, and the entry with its patient's name and
 * the event's id. The event carries the entry's row (`to_jsonb`); the realtime
 * hub turns it into the API shape as it sends it (see `toOutgoing`).
 */
const RECORDED = `a AS (INSERT INTO audit_log (tenant_id, actor_type, actor_id, patient_id, action, request_id, ip)
         SELECT tenant_id, ?, ?, patient_id, ?, ?, ? FROM c),
       named AS (SELECT c.*, (SELECT p.name FROM patients p WHERE p.id = c.patient_id) AS patient_name FROM c),
       r AS (INSERT INTO realtime_events (tenant_id, patient_id, type, payload) SELECT tenant_id, patient_id, ?, to_jsonb(named) FROM named RETURNING id)
       SELECT named.*, r.id AS realtime_event_id FROM named, r`;
const recordedBindings = (audit: AuditFields, eventType: 'correspondence.created' | 'correspondence.updated') =>
  [audit.actorType, audit.actorId, audit.action, audit.requestId, audit.ip, eventType];

/** Every entry read or written comes back with its patient's name (entries are shown in lists spanning patients). */
const PATIENT_NAME = '(SELECT p.name FROM patients p WHERE p.id = correspondence.patient_id) AS patient_name';
const WITH_NAME = ['correspondence.*', PATIENT_NAME];

/** The correspondence history and its status events. */
export class CorrespondenceRepository {
  /** History reads waiting for the end of this turn of the event loop, per statement (see `history`). */
  private readonly historyReads = new Map<string, DataLoader<HistoryRead, HistoryRow[]>>();
  /** Entries rendered for history pages, by id: reused while their row version and patient name are unchanged. */
  private readonly rendered = new LRUCache<string, RenderedEntry>({ maxSize: RENDERED_MAX_CHARS, sizeCalculation: (entry) => entry.json.length + 128 });
  /**
   * Each page's (its filters and size) last answer: sent again while the database lists the page exactly as it
   * did then, or, for one patient's page, while the patient's history version, name and the grant are as they were.
   */
  private readonly answered = new LRUCache<string, AnsweredPage>({
    maxSize: ANSWERED_MAX_BYTES,
    sizeCalculation: (page) => page.items.length + 2 * (page.listing.length + page.names.length) + 128,
  });

  constructor(private readonly db: Knex) {}

  private one(db: Knex, where: Record<string, string>, lock = false): Promise<CorrespondenceRow | undefined> {
    const query = db('correspondence').select(WITH_NAME.map((c) => db.raw(c))).where(where).first();
    return (lock ? query.forUpdate() : query) as Promise<CorrespondenceRow | undefined>;
  }

  async insert(entry: NewCorrespondence, db: Knex = this.db): Promise<CorrespondenceRow> {
    const [row] = await db('correspondence').insert(toInsert(entry)).returning(WITH_NAME.map((c) => db.raw(c)) as never);
    return row as CorrespondenceRow;
  }

  /** Inserts entries in one statement, with nothing else written (no events, audit or announcement): for seeding. */
  /** Entries as they are (seed data): no events, audit or notification. Returns each one's id and provider SID. */
  async insertMany(entries: NewCorrespondence[], db: Knex = this.db): Promise<Array<{ id: string; provider_sid: string | null }>> {
    return entries.length > 0 ? db('correspondence').insert(entries.map(toInsert)).returning(['id', 'provider_sid']) : [];
  }

  /**
   * Inserts an entry, its first status event, its audit rows and its realtime
   * event in one statement (one round trip instead of four, atomic even
   * outside a transaction). A duplicate provider SID fails it whole with a
   * unique violation. The caller NOTIFYs `realtime_event_id` after commit.
   */
  async insertRecorded(entry: NewCorrespondence, audit: AuditFields, db: Knex = this.db): Promise<RecordedRow> {
    const insert = db('correspondence').insert(toInsert(entry)).returning('*').toSQL();
    const sql = `WITH c AS (${insert.sql}),
       e AS (INSERT INTO correspondence_events (correspondence_id, provider_sid, status) SELECT id, provider_sid, status FROM c),
       ${RECORDED}`;
    const result = await prepared(
      db,
      statementName('insert_recorded', sql),
      db.raw(sql, [...insert.bindings, ...recordedBindings(audit, 'correspondence.created')] as never),
    );
    return (result.rows as RecordedRow[])[0]!;
  }

  /**
   * Plain inbound SMS, each from a number exactly one of its tenant's
   * patients has, in one statement for all of them: each sender's lookup,
   * entry, first status event, audit row and realtime event (atomic by
   * itself, one commit for the lot). Per item, in order: `stored` with the
   * realtime event to NOTIFY after commit; `duplicate` when its provider SID
   * is already stored (or earlier in the same list); `senders` other than 1
   * when no patient or several have the number, and nothing was written for
   * it. Entries are inserted in the list's order; several may share a
   * microsecond of `created_at`, and history orders those by id.
   */
  async insertInboundSms(items: Array<{ sms: InboundSmsEntry; audit: AuditFields }>, db: Knex = this.db): Promise<InboundSmsResult[]> {
    const input = items.map(({ sms, audit }, i) => ({
      i,
      tenant_id: sms.tenantId,
      phone: sms.from,
      body: sms.body,
      provider_sid: sms.providerSid,
      segments: sms.segments,
      actor_type: audit.actorType,
      actor_id: audit.actorId,
      action: audit.action,
      request_id: audit.requestId,
      ip: audit.ip,
    }));
    const result = await prepared(db, 'insert_inbound_sms', db.raw(INSERT_INBOUND_SMS, [JSON.stringify(input)]));
    const rows = result.rows as Array<{ i: number; senders: number; realtime_event_id: string | null }>;
    return rows.map((row) =>
      row.realtime_event_id ? { outcome: 'stored', realtimeEventId: row.realtime_event_id } : row.senders === 1 ? { outcome: 'duplicate' } : { outcome: 'not_one_sender', senders: row.senders },
    );
  }

  async findById(tenantId: string, id: string, db: Knex = this.db): Promise<CorrespondenceRow | undefined> {
    return this.one(db, { tenant_id: tenantId, id });
  }

  /** Locks an entry for a status change: by our id when the callback carries it, else by provider SID. */
  async lockForUpdate(target: { id?: string | null; providerSid?: string | null }, db: Knex): Promise<CorrespondenceRow | undefined> {
    if (target.id) return this.one(db, { id: target.id }, true);
    if (target.providerSid) return this.one(db, { provider_sid: target.providerSid }, true);
    return undefined;
  }

  /**
   * Changes an entry's fields inside a call's or video visit's transaction
   * (which audits and announces it). `updated_at` is the statement's clock,
   * not the transaction's start, so several changes in one transaction keep
   * their order for clients that drop older updates.
   */
  async updateEntry(id: string, changes: EntryChanges, db: Knex = this.db): Promise<void> {
    const { session, ...rest } = changes;
    await db('correspondence')
      .where({ id })
      .update({ ...rest, ...(session ? { session: JSON.stringify(session) } : {}), updated_at: db.raw('clock_timestamp()') });
  }

  /**
   * Updates an entry and writes its audit rows and realtime event in one
   * statement; returns the entry's row with its patient's name and the
   * event's id to NOTIFY after commit. With `expected`, only if the entry
   * still has those values (checked on the row as the update locks it);
   * undefined when it has not.
   */
  async updateAudited(id: string, changes: RecordedChanges, audit: AuditFields, db: Knex = this.db, expected: ExpectedValues = {}): Promise<RecordedRow | undefined> {
    const update = db('correspondence').where({ ...expected, id }).update({ ...changes, updated_at: db.fn.now() }).returning('*').toSQL();
    const sql = `WITH c AS (${update.sql}), ${RECORDED}`;
    const result = await prepared(db, statementName('update_audited', sql), db.raw(sql, [...update.bindings, ...recordedBindings(audit, 'correspondence.updated')] as never));
    return (result.rows as RecordedRow[])[0];
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

  /**
   * A page of history, newest first, only of patients the practitioner may
   * see, and the audit rows for reading it, in one statement (one round trip;
   * the audit is written exactly when the page holds rows, atomically with
   * reading them). As for {@link AuditRepository.appendRead}, the statement's
   * commit does not wait for the disk flush.
   *
   * Entries are written as API JSON by the database (`correspondenceJsonSql`:
   * Node neither parses rows nor encodes them again) and kept by row version.
   * A page of one patient's read before is first checked by that patient's
   * history version, name and the practitioner's grant (see {@link historySql}):
   * when none moved, the same answer is sent again without its entries being
   * read. Otherwise, and for any other page read before, the page is read as its
   * listing alone: each entry's id and row
   * version, each of its patients' names, and the entries found. When that
   * listing is the one the page was last answered from, the same answer is sent again;
   * otherwise entries held in that version and patient name are reused and only the others are
   * rendered, by a second statement. Any other page is rendered in the same
   * statement. Which entries a page holds, access and the audit rows are the
   * database's answer for this request, every time. Rendering 50 entries cost
   * the database about three times what reading the page does; most
   * entries, once final, never change again.
   */
  async history(query: HistoryQuery, audit: AuditFields): Promise<HistoryPage> {
    const { tenantId, practitionerId, patientId = '', channel = '', direction = '', before = [], limit } = query;
    const pageKey = [tenantId, practitionerId, patientId, channel, direction, ...before, limit].join(' ');
    const last = this.answered.get(pageKey);
    const render = last === undefined;
    // A kept page that showed no entry is read in full: its audit is the service's (see CorrespondenceService.history).
    const kept = last?.version != null && last.found > 0 ? { version: last.version, names: last.names } : null;
    const rows = await this.historyStatement(query, render).load({ query, audit, kept });

    if (render) {
      const shown = (rows as RenderedPageRow[]).slice(0, query.limit);
      const listing = shown.map((row) => row.line).join('\n');
      const items = shown.map((row) => this.keep({ ...row, json: row.json! }));
      return this.answer(pageKey, listing, namesOf(shown), rows.length, shown.at(-1)?.cursor_at ?? null, items, rows[0]?.history_version ?? null);
    }

    const { unchanged, history_version: readAt = null, listing, names, found, cursor_at: cursorAt } = rows[0] as ListingRow;
    if (unchanged) return page(last.items, last.found, last.cursorAt, last.listing);
    if (listing === last.listing && names === last.names) {
      if (readAt !== last.version) this.answered.set(pageKey, { ...last, version: readAt, found, cursorAt });
      return page(last.items, found, cursorAt, listing);
    }
    // Listed otherwise than when last answered: entries held in the version listed, whose patient's name
    // is the one listed, are reused; the others (new on the page, changed, or dropped from what is kept,
    // or whose patient was renamed) are rendered now, in their latest version.
    const nameOf = new Map(names === '' ? [] : names.split('\n').map((line) => line.split('\t') as [string, string]));
    const lines = listing === '' ? [] : listing.split('\n').map((line) => line.split('\t') as [string, string]);
    const items = lines.map(([id, version]) => {
      const entry = this.rendered.get(id);
      return entry && entry.version === version && nameOf.get(entry.patientId) === entry.patientName ? entry.json : undefined;
    });
    const missing = lines.filter((_, i) => items[i] === undefined);
    if (missing.length === 0) return this.answer(pageKey, listing, names, found, cursorAt, items as string[], readAt);
    for (const [id] of missing) this.rendered.delete(id);
    const fresh = new Map((await this.render(query.tenantId, missing.map(([id]) => id))).map((row) => [row.id, row]));
    const shown = lines.map(([id], i) => items[i] ?? (fresh.has(id) ? this.keep(fresh.get(id)!) : undefined)).filter((json) => json !== undefined);
    // An entry deleted since the page was read is left out; one changed since is shown as it is now. Either
    // way that answer is not the listing's, and is not kept as its answer.
    const asListed = missing.every(([id, version]) => {
      const row = fresh.get(id);
      return row !== undefined && row.version === version && nameOf.get(row.patient_id) === row.patient_name;
    });
    return asListed ? this.answer(pageKey, listing, names, found, cursorAt, shown, readAt) : page(Buffer.from(`[${shown.join(',')}]`), found, cursorAt, listing);
  }

  /**
   * The statement for history reads of this shape, taking every such read
   * made in the same turn of the event loop: one round trip and one commit for
   * the lot. A batch the database refuses for a reason other than being
   * unreachable is read again one page at a time, so that one read cannot fail
   * the others.
   */
  private historyStatement(query: HistoryQuery, render: boolean): DataLoader<HistoryRead, HistoryRow[]> {
    const shape = `history_${query.patientId ? 'p' : ''}${query.channel ? 'c' : ''}${query.direction ? 'd' : ''}${query.before ? 'b' : ''}_${query.limit}${render ? '_r' : ''}`;
    let loader = this.historyReads.get(shape);
    if (loader) return loader;
    const sql = historySql(query, render);
    const run = async (reads: readonly HistoryRead[]): Promise<HistoryRow[][]> => {
      const input = reads.map(({ query: q, audit, kept }, i) => ({
        i,
        tenant_id: q.tenantId,
        practitioner_id: q.practitionerId,
        patient_id: q.patientId ?? null,
        channel: q.channel ?? null,
        direction: q.direction ?? null,
        before_at: q.before?.[0] ?? null,
        before_id: q.before?.[1] ?? null,
        kept_version: kept?.version ?? null,
        kept_names: kept?.names ?? null,
        actor_type: audit.actorType,
        actor_id: audit.actorId,
        action: audit.action,
        request_id: audit.requestId,
        ip: audit.ip,
      }));
      const result = await prepared(this.db, shape, this.db.raw(sql, [JSON.stringify(input)]));
      const answers = reads.map((): HistoryRow[] => []);
      for (const row of result.rows as HistoryRow[]) answers[row.i]!.push(row);
      return answers;
    };
    loader = perTurn((reads: readonly HistoryRead[]) => togetherOrEachAlone(reads, run), REQUEST_BATCH_MAX);
    this.historyReads.set(shape, loader);
    return loader;
  }

  /** Keeps a page's answer, made of these entries, as the answer to its listing (at this history version); answers it. */
  private answer(pageKey: string, listing: string, names: string, found: number, cursorAt: string | null, entries: string[], version: string | null): HistoryPage {
    const items = Buffer.from(`[${entries.join(',')}]`);
    this.answered.set(pageKey, { listing, names, items, version, found, cursorAt });
    return page(items, found, cursorAt, listing);
  }

  private async render(tenantId: string, ids: string[]): Promise<RenderedRow[]> {
    const result = await prepared(this.db, 'history_render', this.db.raw(RENDER_SQL, [tenantId, `{${ids.join(',')}}`]));
    return result.rows as RenderedRow[];
  }

  /** Keeps an entry the database just rendered, with the version, patient and patient name it shows; answers its JSON. */
  private keep(row: RenderedRow): string {
    this.rendered.set(row.id, { version: row.version, patientId: row.patient_id, patientName: row.patient_name, json: row.json });
    return row.json;
  }

}
