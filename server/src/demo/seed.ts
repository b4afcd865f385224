import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Channel, Direction, Status } from '@carecomms/core';
import { generateApiKey } from '../auth/tokens.js';
import type { Knex } from '../db/knex.js';
import type { Repositories } from '../repositories/index.js';
import type { NewCorrespondence } from '../repositories/correspondence.js';
import type { SandboxMessageRow } from '../repositories/sandbox.js';
import { newSid } from '../providers/sandbox.js';

/**
 * Demo data: two clinics, fictional people and numbers (Australia's ACMA
 * fictional mobile range 0491 570 xxx), some history in every channel. The
 * texts are in the sandbox phones' inboxes too, so the phone simulator shows
 * the same conversation as the chart.
 */
const DEMO_CLINIC = {
  slug: 'demo-clinic',
  name: 'Demo Clinic',
  twilioPhoneNumber: '+61491571266',
  helpReply: 'Demo Clinic: reply STOP to stop messages. For urgent care call 000. Clinic hours 8am-6pm on (02) 5550 1234.',
  practitioners: [
    { externalId: 'dr-lee', name: 'Dr Amelia Lee' },
    { externalId: 'dr-patel', name: 'Dr Ravi Patel' },
  ],
  patients: [
    { externalId: 'MRN-100231', name: 'Margaret Thompson', phone: '+61491570006', email: 'margaret.thompson@example.com' },
    { externalId: 'MRN-100245', name: "James O'Connor", phone: '+61491570156', email: 'james.oconnor@example.com' },
    { externalId: 'MRN-100262', name: 'Aiko Tanaka', phone: '+61491570157', email: 'aiko.tanaka@example.com' },
    { externalId: 'MRN-100278', name: 'Lucas Silva', phone: '+61491570158', email: 'lucas.silva@example.org' },
    { externalId: 'MRN-100284', name: 'Fatima Rahman', phone: '+61491570159', email: 'fatima.rahman@example.net' },
    { externalId: 'MRN-100297', name: 'Noah Williams', phone: '+61491570110', email: 'noah.williams@example.com', optedOut: true },
    { externalId: 'MRN-100305', name: 'Grace Kim', phone: null, email: 'grace.kim@example.com' },
  ],
  /** dr-lee sees everyone; dr-patel only these. */
  patelPatients: ['MRN-100231', 'MRN-100262', 'MRN-100284'],
};

const OTHER_CLINIC = {
  slug: 'other-clinic',
  name: 'Other Clinic',
  twilioPhoneNumber: '+61491571491',
  practitioners: [{ externalId: 'dr-other', name: 'Dr Sam Okafor' }],
  patients: [
    { externalId: 'OC-5001', name: 'Oliver Brown', phone: '+61491570313', email: 'oliver.brown@example.com' },
    { externalId: 'OC-5002', name: 'Mia Chen', phone: '+61491570737', email: 'mia.chen@example.com' },
  ],
};

interface HistoryItem {
  channel: Channel;
  direction: Direction;
  status: Status;
  body?: string;
  durationSeconds?: number;
  session?: Record<string, unknown>;
  minutesAgo: number;
  notes?: string;
}

function historyFor(index: number): HistoryItem[] {
  const day = 24 * 60;
  return [
    { channel: 'email', direction: 'outbound', status: 'logged', body: 'Your pathology results are ready. Please book a follow-up appointment.', minutesAgo: 9 * day + index * 37 },
    { channel: 'sms', direction: 'outbound', status: 'delivered', body: 'Hi, this is Demo Clinic. A reminder of your appointment tomorrow at 10:30am. Reply to this message if you need to reschedule.', minutesAgo: 6 * day + index * 53 },
    { channel: 'sms', direction: 'inbound', status: 'received', body: 'Thanks, see you then!', minutesAgo: 6 * day + index * 53 - 12 },
    { channel: 'voice', direction: 'outbound', status: 'completed', durationSeconds: 184 + index * 41, notes: 'Discussed medication dosage; patient to call back if symptoms persist.', minutesAgo: 3 * day + index * 71 },
    { channel: 'video', direction: 'outbound', status: 'completed', durationSeconds: 900 + index * 60, session: { participants: 2 }, minutesAgo: day + index * 29 },
  ];
}

export interface DemoKeys {
  demoClinicApiKey: string;
  otherClinicApiKey: string;
}

/** Seeds an empty database once; returns the API keys it generated, or null when already seeded. */
export async function seedDemo(knex: Knex, repos: Repositories, dataDir: string | null): Promise<DemoKeys | null> {
  return knex.transaction(async (trx) => {
    await trx.raw('LOCK TABLE tenants IN SHARE ROW EXCLUSIVE MODE');
    if (await repos.tenants.findBySlug(DEMO_CLINIC.slug, trx)) return null;
    const keys: string[] = [];
    for (const clinic of [DEMO_CLINIC, OTHER_CLINIC]) {
      const { key, hash } = generateApiKey();
      keys.push(key);
      const tenant = await repos.tenants.create(
        { slug: clinic.slug, name: clinic.name, apiKeyHash: hash, twilioPhoneNumber: clinic.twilioPhoneNumber, helpReply: 'helpReply' in clinic ? clinic.helpReply : null },
        trx,
      );
      const practitioners = new Map<string, string>();
      for (const p of clinic.practitioners) {
        const { row } = await repos.tenants.upsertPractitioner(tenant.id, p.externalId, p.name, trx);
        practitioners.set(p.externalId, row.id);
      }
      const patientIds = new Map<string, string>();
      const history: NewCorrespondence[] = [];
      const phoneMessages: Array<Omit<SandboxMessageRow, 'id' | 'error_code'>> = [];
      for (const [index, p] of clinic.patients.entries()) {
        const { row } = await repos.patients.upsert(tenant.id, p.externalId, { name: p.name, phone: p.phone, email: p.email }, trx);
        if ('optedOut' in p && p.optedOut) await repos.patients.setOptOut(row.id, true, trx);
        patientIds.set(p.externalId, row.id);
        const practitionerId = practitioners.get(clinic.practitioners[0]!.externalId)!;
        for (const item of historyFor(index)) {
          if (item.channel !== 'email' && !p.phone) continue;
          const createdAt = new Date(Date.now() - item.minutesAgo * 60_000);
          const sid = item.channel === 'sms' ? newSid() : null;
          if (sid) {
            phoneMessages.push({
              sid,
              phone: p.phone!,
              clinic_number: clinic.twilioPhoneNumber,
              direction: item.direction === 'outbound' ? 'to_phone' : 'from_phone',
              body: item.body!,
              status: item.status,
              reference: null,
              created_at: createdAt,
              updated_at: createdAt,
            });
          }
          history.push({
            tenant_id: tenant.id,
            patient_id: row.id,
            practitioner_id: item.direction === 'inbound' ? null : practitionerId,
            channel: item.channel,
            direction: item.direction,
            status: item.status,
            body: item.body ?? null,
            contact: item.channel === 'email' ? p.email : p.phone,
            duration_seconds: item.durationSeconds ?? null,
            notes: item.notes ?? null,
            session: item.session ?? null,
            segments: item.channel === 'sms' ? 1 : null,
            provider_sid: sid,
            created_at: createdAt,
          });
        }
      }
      const inserted = await repos.correspondence.insertMany(history, trx);
      // A text the clinic sent names its entry, as the outbox's sends do.
      const entryBySid = new Map(inserted.map((row) => [row.provider_sid, row.id]));
      for (const message of phoneMessages) if (message.direction === 'to_phone') message.reference = entryBySid.get(message.sid) ?? null;
      await repos.sandbox.insertMany(phoneMessages, trx);
      for (const [externalId, practitionerId] of practitioners) {
        const visible = externalId === 'dr-patel' ? DEMO_CLINIC.patelPatients : [...patientIds.keys()];
        await repos.patients.grant(tenant.id, practitionerId, visible.map((id) => patientIds.get(id)!), trx);
      }
    }
    const result = { demoClinicApiKey: keys[0]!, otherClinicApiKey: keys[1]! };
    if (dataDir) {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(path.join(dataDir, 'demo-api-keys.json'), JSON.stringify(result, null, 2), { mode: 0o600 });
    }
    return result;
  });
}

export const DEMO_PRACTITIONERS = ['dr-lee', 'dr-patel', 'dr-other'] as const;
