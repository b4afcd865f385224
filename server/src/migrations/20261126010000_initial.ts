import type { Knex } from 'knex';

/** Tenants, people, access grants, correspondence with its status events, audit, idempotency, realtime events. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tenants', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('slug').notNullable().unique();
    t.text('name').notNullable();
    t.text('api_key_hash').unique();
    t.text('twilio_phone_number');
    t.boolean('recording_enabled').notNullable().defaultTo(false);
    t.text('help_reply');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('practitioners', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.text('external_id').notNullable();
    t.text('name').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['tenant_id', 'external_id']);
  });

  await knex.schema.createTable('patients', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.text('external_id').notNullable();
    t.text('name').notNullable();
    t.text('phone');
    t.text('email');
    t.boolean('opted_out').notNullable().defaultTo(false);
    t.timestamp('opted_out_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['tenant_id', 'external_id']);
    t.index(['tenant_id', 'phone']);
  });
  // Name order with an id tie-break: the patients list's keyset.
  await knex.raw('CREATE INDEX patients_tenant_name_idx ON patients (tenant_id, lower(name), id)');

  await knex.schema.createTable('patient_access', (t) => {
    t.uuid('practitioner_id').notNullable().references('practitioners.id').onDelete('CASCADE');
    t.uuid('patient_id').notNullable().references('patients.id').onDelete('CASCADE');
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['practitioner_id', 'patient_id']);
    t.index(['patient_id']);
  });

  await knex.schema.createTable('correspondence', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.uuid('patient_id').notNullable().references('patients.id').onDelete('CASCADE');
    t.uuid('practitioner_id').references('practitioners.id').onDelete('SET NULL');
    t.text('channel').notNullable();
    t.text('direction').notNullable();
    t.text('status').notNullable();
    t.text('body');
    t.text('contact');
    t.integer('duration_seconds');
    t.text('recording_sid');
    t.text('notes');
    t.jsonb('session');
    t.text('provider_sid');
    t.text('error_code');
    t.integer('segments');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check("channel IN ('sms', 'email', 'voice', 'video')", [], 'correspondence_channel_check');
    t.check("direction IN ('outbound', 'inbound')", [], 'correspondence_direction_check');
    t.check('duration_seconds IS NULL OR duration_seconds >= 0', [], 'correspondence_duration_check');
  });
  // History, newest first: per patient, per patient and channel, and per tenant.
  await knex.raw('CREATE INDEX correspondence_patient_idx ON correspondence (patient_id, created_at DESC, id DESC)');
  await knex.raw('CREATE INDEX correspondence_patient_channel_idx ON correspondence (patient_id, channel, created_at DESC, id DESC)');
  await knex.raw('CREATE INDEX correspondence_tenant_idx ON correspondence (tenant_id, created_at DESC, id DESC)');
  await knex.raw(
    'CREATE UNIQUE INDEX correspondence_provider_sid_idx ON correspondence (tenant_id, provider_sid) WHERE provider_sid IS NOT NULL',
  );

  await knex.schema.createTable('correspondence_events', (t) => {
    t.bigIncrements('id');
    t.uuid('correspondence_id').notNullable().references('correspondence.id').onDelete('CASCADE');
    t.text('provider_sid');
    t.text('status').notNullable();
    t.jsonb('details');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // A duplicate webhook for the same status is a no-op.
    t.unique(['correspondence_id', 'status']);
  });

  await knex.schema.createTable('idempotency_keys', (t) => {
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.uuid('practitioner_id').notNullable().references('practitioners.id').onDelete('CASCADE');
    t.text('key').notNullable();
    t.text('request_hash').notNullable();
    t.uuid('correspondence_id').references('correspondence.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'practitioner_id', 'key']);
  });

  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id');
    t.uuid('tenant_id').notNullable();
    t.text('actor_type').notNullable();
    t.text('actor_id');
    t.uuid('patient_id');
    t.text('action').notNullable();
    t.text('request_id');
    t.text('ip');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['tenant_id', 'patient_id', 'created_at']);
  });
  // Append-only: the database itself refuses to change or delete audit rows.
  await knex.raw(`
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_log is append-only';
    END $$`);
  await knex.raw(`
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`);

  await knex.schema.createTable('realtime_events', (t) => {
    t.bigIncrements('id');
    t.uuid('tenant_id').notNullable();
    t.uuid('patient_id');
    t.text('type').notNullable();
    t.jsonb('payload').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['tenant_id', 'id']);
    t.index(['created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('realtime_events');
  await knex.schema.dropTableIfExists('audit_log');
  await knex.raw('DROP FUNCTION IF EXISTS audit_log_append_only()');
  await knex.schema.dropTableIfExists('idempotency_keys');
  await knex.schema.dropTableIfExists('correspondence_events');
  await knex.schema.dropTableIfExists('correspondence');
  await knex.schema.dropTableIfExists('patient_access');
  await knex.schema.dropTableIfExists('patients');
  await knex.schema.dropTableIfExists('practitioners');
  await knex.schema.dropTableIfExists('tenants');
}
