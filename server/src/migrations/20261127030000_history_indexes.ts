import type { Knex } from 'knex';

/**
 * History by patient, channel and direction (the list's filters, and "who did
 * we text last from this shared number" on every inbound SMS) without scanning
 * the patient's other entries.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    'CREATE INDEX correspondence_patient_channel_direction_idx ON correspondence (patient_id, channel, direction, created_at DESC, id DESC)',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS correspondence_patient_channel_direction_idx');
}
