import type { Knex } from 'knex';

/**
 * Patients by phone number within a tenant: every inbound SMS and call looks
 * its sender up this way, which without an index reads all of the tenant's patients.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX patients_tenant_phone_idx ON patients (tenant_id, phone) WHERE phone IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS patients_tenant_phone_idx');
}
