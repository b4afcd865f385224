import type { Knex } from 'knex';

/**
 * A patient's entries all carry that patient's tenant: the history page's
 * `tenant_id = $1 AND patient_id = $3` is no more selective than the patient
 * alone. Without this functional-dependency statistic PostgreSQL multiplies
 * the two; its generic plan for the prepared page statement then looked
 * costlier than a custom one, so it planned every execution afresh (40 % of
 * the database's time for a page read again, measured with perf). With it,
 * the generic plan is kept. It takes effect once the table is analysed: now,
 * then by autovacuum.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE STATISTICS correspondence_patient_tenant (dependencies) ON patient_id, tenant_id FROM correspondence');
  await knex.raw('ANALYZE correspondence');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP STATISTICS IF EXISTS correspondence_patient_tenant');
}
