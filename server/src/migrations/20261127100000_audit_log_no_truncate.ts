import type { Knex } from 'knex';

/**
 * The audit log's row trigger refuses UPDATE and DELETE, but TRUNCATE fires no
 * row triggers: a statement trigger refuses it too, so no SQL short of dropping
 * the trigger (a schema change, itself reviewable) empties the log.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log');
}
