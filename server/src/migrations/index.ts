import type { Knex } from 'knex';
import * as initial from './20261126010000_initial.js';
import * as outbox from './20261126020000_outbox.js';
import * as correspondenceUpdatedAt from './20261126030000_correspondence_updated_at.js';
import * as calls from './20261127020000_calls.js';
import * as historyIndexes from './20261127030000_history_indexes.js';
import * as videoVisits from './20261127040000_video_visits.js';
import * as patientPhoneIndex from './20261127090000_patient_phone_index.js';
import * as auditLogNoTruncate from './20261127100000_audit_log_no_truncate.js';
import * as idempotencyKeyExpiry from './20261127110000_idempotency_key_expiry.js';
import * as correspondencePatientTenantStatistics from './20261127120000_correspondence_patient_tenant_statistics.js';
import * as correspondencePatientTenantKey from './20261127130000_correspondence_patient_tenant_key.js';
import * as historyVersions from './20261128010000_history_versions.js';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * Migrations listed in order (timestamped names, never edited once landed).
 * A static list rather than a directory scan: it works the same from source
 * under tsx and from a bundle, and a missing import is a type error.
 */
const migrations: Array<[string, Migration]> = [
  ['20261126010000_initial', initial],
  ['20261126020000_outbox', outbox],
  ['20261126030000_correspondence_updated_at', correspondenceUpdatedAt],
  ['20261127020000_calls', calls],
  ['20261127030000_history_indexes', historyIndexes],
  ['20261127040000_video_visits', videoVisits],
  ['20261127090000_patient_phone_index', patientPhoneIndex],
  ['20261127100000_audit_log_no_truncate', auditLogNoTruncate],
  ['20261127110000_idempotency_key_expiry', idempotencyKeyExpiry],
  ['20261127120000_correspondence_patient_tenant_statistics', correspondencePatientTenantStatistics],
  ['20261127130000_correspondence_patient_tenant_key', correspondencePatientTenantKey],
  ['20261128010000_history_versions', historyVersions],
];

/** The migrations' names, in order (what a database migrated to the latest has applied). */
export const migrationNames = migrations.map(([name]) => name);

export const migrationSource: Knex.MigrationSource<[string, Migration]> = {
  async getMigrations() {
    return migrations;
  },
  getMigrationName([name]) {
    return name;
  },
  async getMigration([, migration]) {
    return migration;
  },
};
