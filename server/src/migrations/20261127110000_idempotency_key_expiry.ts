import type { Knex } from 'knex';

/** Idempotency-Keys by age: the hourly sweep forgets those older than a day. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS idempotency_keys_created_at_idx');
}
