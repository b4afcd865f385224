import { describeErrorCode, ERROR_REASONS, type Channel, type CorrespondenceEntry, type Direction, type Patient, type Status } from '@carecomms/core';
import { formatPhone } from '@carecomms/core/phone';

export interface PatientRow {
  id: string;
  tenant_id: string;
  external_id: string;
  name: string;
  phone: string | null;
  email: string | null;
  opted_out: boolean;
  opted_out_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface CorrespondenceRow {
  id: string;
  tenant_id: string;
  patient_id: string;
  practitioner_id: string | null;
  channel: Channel;
  direction: Direction;
  status: Status;
  body: string | null;
  contact: string | null;
  duration_seconds: number | null;
  recording_sid: string | null;
  notes: string | null;
  session: Record<string, unknown> | null;
  provider_sid: string | null;
  error_code: string | null;
  segments: number | null;
  created_at: Date;
  updated_at: Date;
  /** Joined from patients by every correspondence read. */
  patient_name: string;
}

export interface PractitionerRow {
  id: string;
  tenant_id: string;
  external_id: string;
  name: string;
}

export interface TenantRow {
  id: string;
  slug: string;
  name: string;
  api_key_hash: string | null;
  twilio_phone_number: string | null;
  recording_enabled: boolean;
  help_reply: string | null;
}

export function toPatient(row: PatientRow): Patient {
  return {
    id: row.id,
    externalId: row.external_id,
    name: row.name,
    phone: row.phone,
    phoneDisplay: row.phone ? formatPhone(row.phone) : null,
    email: row.email,
    optedOut: row.opted_out,
  };
}

export function toCorrespondence(row: CorrespondenceRow): CorrespondenceEntry {
  return {
    id: row.id,
    patientId: row.patient_id,
    patientName: row.patient_name,
    practitionerId: row.practitioner_id,
    channel: row.channel,
    direction: row.direction,
    status: row.status,
    body: row.body,
    contact: row.contact,
    durationSeconds: row.duration_seconds,
    hasRecording: row.recording_sid !== null,
    notes: row.notes,
    session: row.session,
    providerSid: row.provider_sid,
    errorCode: row.error_code,
    errorReason: describeErrorCode(row.error_code),
    segments: row.segments,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

const sqlText = (text: string) => `'${text.replace(/'/g, "''")}'`;
const utcMillis = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** `describeErrorCode` as a SQL expression over an error-code column, built from the same reasons. */
function errorReasonSql(column: string): string {
  const unlisted = '999999999';
  const [before, after] = describeErrorCode(unlisted)!.split(unlisted) as [string, string];
  const listed = Object.entries(ERROR_REASONS).map(([code, reason]) => `WHEN ${sqlText(code)} THEN ${sqlText(reason)}`);
  return `CASE WHEN ${column} IS NULL OR ${column} = '' THEN NULL ELSE CASE ${column} ${listed.join(' ')}
    ELSE CASE WHEN ${column} ~ '^[0-9]+$' THEN ${sqlText(before)} || ${column} || ${sqlText(after)} ELSE ${sqlText(describeErrorCode('-')!)} END END END`;
}

/**
 * `toCorrespondence` as a SQL expression: the API shape of the entry row
 * aliased `alias` (with its `patient_name`), as a JSON object the database
 * builds. A page of history is sent as the database wrote it, with no row
 * parsing or JSON encoding in Node (server/test/correspondence.test.ts holds
 * the two to the same output).
 */
export function correspondenceJsonSql(alias: string): string {
  const c = (column: string) => `${alias}.${column}`;
  return `json_build_object('id', ${c('id')}, 'patientId', ${c('patient_id')}, 'patientName', ${c('patient_name')},
    'practitionerId', ${c('practitioner_id')}, 'channel', ${c('channel')}, 'direction', ${c('direction')}, 'status', ${c('status')},
    'body', ${c('body')}, 'contact', ${c('contact')}, 'durationSeconds', ${c('duration_seconds')},
    'hasRecording', ${c('recording_sid')} IS NOT NULL, 'notes', ${c('notes')}, 'session', ${c('session')},
    'providerSid', ${c('provider_sid')}, 'errorCode', ${c('error_code')}, 'errorReason', ${errorReasonSql(c('error_code'))},
    'segments', ${c('segments')}, 'createdAt', ${utcMillis(c('created_at'))}, 'updatedAt', ${utcMillis(c('updated_at'))})`;
}
