import type { Knex } from 'knex';

/**
 * Video visits: the room and who may sit in it, the patient join links (only a
 * hash of each token is kept), and the participant events the visit's status
 * and duration are computed from.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('video_visits', (t) => {
    t.uuid('id').primary();
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.uuid('patient_id').notNullable().references('patients.id').onDelete('CASCADE');
    t.uuid('practitioner_id').references('practitioners.id').onDelete('SET NULL');
    t.uuid('correspondence_id').notNullable().unique().references('correspondence.id').onDelete('CASCADE');
    // twilio | sandbox: which provider the room lives on (a visit outlives a config change).
    t.text('provider').notNullable();
    // Opaque: no name, id or phone of anyone.
    t.text('room_name').notNullable().unique();
    t.text('room_sid').notNullable();
    // Opaque participant identities handed to the provider; map events back to a seat.
    t.text('practitioner_identity').notNullable();
    t.text('patient_identity').notNullable();
    // created → waiting → in-progress → completed
    t.text('status').notNullable().defaultTo('created');
    t.timestamp('started_at', { useTz: true });
    t.timestamp('ended_at', { useTz: true });
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['room_sid']);
    t.check("status IN ('created', 'waiting', 'in-progress', 'completed')", [], 'video_visits_status_check');
  });
  // The expiry sweep looks only at visits still open.
  await knex.raw("CREATE INDEX video_visits_open_idx ON video_visits (expires_at) WHERE status <> 'completed'");

  await knex.schema.createTable('join_links', (t) => {
    t.bigIncrements('id');
    t.uuid('visit_id').notNullable().references('video_visits.id').onDelete('CASCADE');
    // SHA-256 (hex) of the random token in the URL; the token itself is never stored.
    t.text('token_hash').notNullable().unique();
    // How the link was handed out: shown in the dialog, or texted.
    t.text('channel').notNullable().defaultTo('dialog');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.integer('use_count').notNullable().defaultTo(0);
    t.timestamp('first_used_at', { useTz: true });
    t.timestamp('last_used_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['visit_id']);
    t.check("channel IN ('dialog', 'sms')", [], 'join_links_channel_check');
  });

  await knex.schema.createTable('video_visit_events', (t) => {
    t.bigIncrements('id');
    t.uuid('visit_id').notNullable().references('video_visits.id').onDelete('CASCADE');
    // participant-connected | participant-disconnected | room-ended
    t.text('kind').notNullable();
    // practitioner | patient, for participant events
    t.text('role');
    // The provider's participant SID, or the sandbox seat connection's id.
    t.text('participant');
    t.timestamp('occurred_at', { useTz: true }).notNullable();
    // What makes a repeat of the same event (a duplicate webhook) a no-op.
    t.text('dedupe_key').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['visit_id', 'dedupe_key']);
    t.check("kind IN ('participant-connected', 'participant-disconnected', 'room-ended')", [], 'video_visit_events_kind_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('video_visit_events');
  await knex.schema.dropTableIfExists('join_links');
  await knex.schema.dropTableIfExists('video_visits');
}
