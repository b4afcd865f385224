import { CHANNELS, type CorrespondenceEntry, type Patient, type SessionInfo, type Status } from '@carecomms/core';

export const session: SessionInfo = {
  practitioner: { id: 'prac-lee', externalId: 'dr-lee', name: 'Dr Amelia Lee' },
  tenant: { id: 'tenant-1', name: 'Harbourside Medical' },
  provider: 'sandbox',
  features: ['sms', 'voice', 'video'],
  expiresAt: '2030-01-01T00:00:00.000Z',
};

export const patient = (id: string, name: string, phone: string | null, extra: Partial<Patient> = {}): Patient => ({
  id,
  externalId: `MRN-${id}`,
  name,
  phone,
  phoneDisplay: phone ? `${phone.slice(0, 3)} ${phone.slice(3, 6)} ${phone.slice(6, 9)} ${phone.slice(9)}` : null,
  email: `${name.split(' ')[0]!.toLowerCase()}@example.org`,
  optedOut: false,
  ...extra,
});

export const patients: Patient[] = [
  patient('pat-1', 'Aroha Ngata', '+61491570006'),
  patient('pat-2', 'Ben Carter', '+61491570156'),
  patient('pat-3', 'Chloé Dubois', '+61491570157', { optedOut: true }),
  patient('pat-4', 'Daniel Okafor', null),
  patient('pat-5', 'Eleanor Whitfield', '+61491570158'),
];

const STATUS_BY_CHANNEL: Record<CorrespondenceEntry['channel'], Status[]> = {
  sms: ['delivered', 'sent', 'received', 'failed'],
  email: ['logged'],
  voice: ['completed', 'no-answer', 'busy'],
  video: ['completed', 'waiting'],
};

const BODIES = [
  'Hi Aroha, your blood test results are back and look normal. No need to come in.',
  'Reminder: appointment tomorrow at 9:30 with Dr Lee. Reply C to confirm.',
  'C',
  'Can I get a repeat script for my inhaler please?',
  '<b>Not bold</b> — bodies are text, never HTML.',
];

/** A deterministic history, newest first, one minute apart. */
export function makeEntries(count: number, start = Date.parse('2025-06-02T09:00:00Z')): CorrespondenceEntry[] {
  return Array.from({ length: count }, (_, i) => {
    const channel = CHANNELS[i % CHANNELS.length]!;
    const statuses = STATUS_BY_CHANNEL[channel];
    const status = statuses[i % statuses.length]!;
    const direction = status === 'received' ? 'inbound' : 'outbound';
    const at = new Date(start - i * 60_000).toISOString();
    const talk = channel === 'voice' || channel === 'video';
    return {
      id: `entry-${String(count - i).padStart(5, '0')}`,
      patientId: patients[i % patients.length]!.id,
      patientName: patients[i % patients.length]!.name,
      practitionerId: direction === 'inbound' ? null : session.practitioner.id,
      channel,
      direction,
      status,
      body: channel === 'sms' || channel === 'email' ? BODIES[i % BODIES.length]! : null,
      contact: patients[i % patients.length]!.phone,
      durationSeconds: talk && status === 'completed' ? 95 + i * 7 : null,
      hasRecording: channel === 'voice' && status === 'completed',
      notes: null,
      session: null,
      providerSid: null,
      errorCode: status === 'failed' ? '30003' : null,
      segments: channel === 'sms' ? 1 : null,
      createdAt: at,
      updatedAt: at,
    };
  });
}

/** A new entry, as the server would create it now. */
export function newEntry(overrides: Partial<CorrespondenceEntry> = {}): CorrespondenceEntry {
  const now = new Date().toISOString();
  return {
    id: `entry-live-${Math.random().toString(36).slice(2, 10)}`,
    patientId: 'pat-1',
    patientName: patients[0]!.name,
    practitionerId: null,
    channel: 'sms',
    direction: 'inbound',
    status: 'received',
    body: 'Thanks, see you then!',
    contact: '+61491570006',
    durationSeconds: null,
    hasRecording: false,
    notes: null,
    session: null,
    providerSid: null,
    errorCode: null,
    segments: 1,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}
