import type { Knex } from 'knex';

/**
 * created_at defaults to clock_timestamp() (20261126020000); updated_at follows,
 * so a new entry is never "updated" before it was created.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE correspondence ALTER COLUMN updated_at SET DEFAULT clock_timestamp()');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE correspondence ALTER COLUMN updated_at SET DEFAULT now()');
}
