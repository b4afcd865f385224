import type { Knex } from 'knex';

/**
 * The durable outbox for provider work, the sandbox provider's phone inboxes,
 * and an index to match inbound messages to a tenant by its number.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id');
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.text('kind').notNullable();
    t.uuid('correspondence_id').notNullable().references('correspondence.id').onDelete('CASCADE');
    // pending → done | failed
    t.text('state').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('available_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('locked_until', { useTz: true });
    t.text('locked_by');
    // An attempt was started and its outcome is unknown (worker crashed, timeout, 5xx):
    // the next attempt asks the provider before sending again.
    t.boolean('in_flight').notNullable().defaultTo(false);
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['correspondence_id', 'kind']);
    t.check("state IN ('pending', 'done', 'failed')", [], 'outbox_state_check');
  });
  await knex.raw("CREATE INDEX outbox_pending_idx ON outbox (available_at, id) WHERE state = 'pending'");

  await knex.schema.createTable('sandbox_messages', (t) => {
    t.bigIncrements('id');
    t.text('sid').notNullable().unique();
    // The patient's phone: whose inbox this message is in.
    t.text('phone').notNullable();
    t.text('clinic_number').notNullable();
    // to_phone: sent by the clinic; from_phone: sent by the patient.
    t.text('direction').notNullable();
    t.text('body').notNullable();
    t.text('status').notNullable();
    t.text('error_code');
    // Our correspondence id, for the outbox's "was it sent?" check (not unique: like Twilio, the sandbox would send twice).
    t.text('reference');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['phone', 'id']);
    t.index(['reference']);
    t.check("direction IN ('to_phone', 'from_phone')", [], 'sandbox_messages_direction_check');
  });

  await knex.schema.alterTable('tenants', (t) => {
    t.index(['twilio_phone_number'], 'tenants_twilio_phone_number_idx');
  });

  // Entries written in one transaction (an inbound HELP and its reply) keep their order in history:
  // now() is the transaction's start, clock_timestamp() the moment of the insert.
  await knex.raw('ALTER TABLE correspondence ALTER COLUMN created_at SET DEFAULT clock_timestamp()');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE correspondence ALTER COLUMN created_at SET DEFAULT now()');
  await knex.schema.alterTable('tenants', (t) => {
    t.dropIndex(['twilio_phone_number'], 'tenants_twilio_phone_number_idx');
  });
  await knex.schema.dropTableIfExists('sandbox_messages');
  await knex.schema.dropTableIfExists('outbox');
}
