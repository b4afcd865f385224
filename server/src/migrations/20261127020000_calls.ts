import type { Knex } from 'knex';

/**
 * Voice calls: each call is a two-party conference on the provider with an
 * opaque name; the practitioner's browser and the patient's phone are its two
 * legs. Every status report the provider sends (and the sandbox's own) is kept
 * in `call_events`, from which the call's status, answer time and duration are
 * computed whatever order the reports arrived in.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('calls', (t) => {
    t.uuid('id').primary();
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.uuid('patient_id').notNullable().references('patients.id').onDelete('CASCADE');
    t.uuid('practitioner_id').references('practitioners.id').onDelete('SET NULL');
    t.uuid('correspondence_id').notNullable().unique().references('correspondence.id').onDelete('CASCADE');
    // twilio | sandbox: where the call lives (a call outlives a config change).
    t.text('provider').notNullable();
    // Opaque: no name, id or number of anyone.
    t.text('conference_name').notNullable().unique();
    // The browser's opaque identity (Twilio `client:` identity), one per call.
    t.text('identity').notNullable();
    // The numbers dialled from and to.
    t.text('from_number').notNullable();
    t.text('to_number').notNullable();
    // Recording was on for the tenant when the call started.
    t.boolean('recording').notNullable().defaultTo(false);
    t.text('conference_sid');
    t.text('practitioner_call_sid');
    t.text('patient_call_sid');
    // initiated → ringing → in-progress → completed | busy | no-answer | failed | canceled
    t.text('status').notNullable().defaultTo('initiated');
    t.boolean('on_hold').notNullable().defaultTo(false);
    // The provider's sequence number of the hold event last applied (late ones are ignored).
    t.integer('hold_sequence');
    t.timestamp('answered_at', { useTz: true });
    t.timestamp('ended_at', { useTz: true });
    // From answer to hang-up, once over; the provider's error code when the call failed.
    t.integer('duration_seconds');
    t.text('error_code');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.raw('clock_timestamp()'));
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.raw('clock_timestamp()'));
    t.index(['conference_sid']);
    t.index(['practitioner_call_sid']);
    t.index(['patient_call_sid']);
    t.check(
      "status IN ('initiated', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled')",
      [],
      'calls_status_check',
    );
  });
  // The stale-call sweep looks only at calls still open.
  await knex.raw("CREATE INDEX calls_open_idx ON calls (created_at) WHERE status IN ('initiated', 'ringing', 'in-progress')");

  await knex.schema.createTable('call_events', (t) => {
    t.bigIncrements('id');
    t.uuid('call_id').notNullable().references('calls.id').onDelete('CASCADE');
    // leg-status | conference | recording | ended
    t.text('kind').notNullable();
    // The provider's call, conference or recording SID the event is about.
    t.text('sid');
    // The leg's status, the conference event name, the recording status, or who ended the call.
    t.text('name').notNullable();
    t.timestamp('occurred_at', { useTz: true }).notNullable();
    t.integer('sequence');
    t.jsonb('details');
    // What makes a repeat of the same report (a duplicate webhook) a no-op.
    t.text('dedupe_key').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.raw('clock_timestamp()'));
    t.unique(['call_id', 'dedupe_key']);
    t.check("kind IN ('leg-status', 'conference', 'recording', 'ended')", [], 'call_events_kind_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('call_events');
  await knex.schema.dropTableIfExists('calls');
}
