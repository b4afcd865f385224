import { createHash } from 'node:crypto';
import { canTransition, countSmsSegments, type CorrespondenceEntry, type Status } from '@carecomms/core';
import { isMobile, toE164 } from '@carecomms/core/phone';
import { LRUCache } from 'lru-cache';
import type { Knex } from '../db/knex.js';
import { conflict, unprocessable } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AuditActor, AuditRepository } from '../repositories/audit.js';
import type { CorrespondenceRepository } from '../repositories/correspondence.js';
import { IDEMPOTENCY_KEY_TTL_MS, type IdempotencyKeyRepository } from '../repositories/idempotency-keys.js';
import { isUuid } from '../repositories/cursor.js';
import type { OutboxRepository } from '../repositories/outbox.js';
import type { PatientKey, PatientRepository } from '../repositories/patients.js';
import type { RealtimeEventRepository } from '../repositories/realtime-events.js';
import { toCorrespondence, toPatient, type PatientRow, type TenantRow } from '../repositories/rows.js';
import type { TenantRepository } from '../repositories/tenants.js';
import type { CorrespondenceService } from './correspondence.js';
import type { PatientService } from './patients.js';
import { smsKeyword, type SmsKeyword } from './sms-keywords.js';

/** Who made a change that no signed-in caller made (a webhook, the outbox, the sandbox). */
export type SystemActor = Omit<AuditActor, 'tenantId'>;

/** A status report for an outbound SMS, from a webhook, the sandbox, or the provider's answer to a send. */
export interface StatusUpdate {
  /** Our correspondence id, when the report carries it (our status callback URLs do). */
  reference?: string | null;
  sid?: string | null;
  status: Status;
  errorCode?: string | null;
}

export type StatusOutcome = 'applied' | 'duplicate' | 'stale' | 'unknown';

/** An inbound SMS as Twilio's webhook (or the sandbox) delivers it. */
export interface InboundSms {
  sid: string;
  from: string;
  to: string;
  body: string;
}

export type InboundOutcome = 'stored' | 'duplicate' | 'unknown_sender';

export const MAX_SMS_LENGTH = 1600;

const UNIQUE_VIOLATION = '23505';

/** How long the tenants receiving on a number are remembered. */
export const TENANTS_BY_NUMBER_TTL_MS = 5_000;

/** The SMS rules: who may be texted, idempotent sends, status order, inbound replies and keywords. */
export class SmsService {
  private readonly tenantsByNumber = new Map<string, { tenants: TenantRow[]; until: number }>();
  /** Numbers on inbound webhooks as E.164 (parsing both on every webhook cost a third of their throughput here; the same few recur). */
  private readonly e164 = new LRUCache<string, string>({ max: 10_000 });

  constructor(
    private readonly db: Knex,
    private readonly deps: {
      correspondence: CorrespondenceRepository;
      idempotencyKeys: IdempotencyKeyRepository;
      correspondenceService: CorrespondenceService;
      patientService: PatientService;
      patients: PatientRepository;
      tenants: TenantRepository;
      outbox: OutboxRepository;
      audit: AuditRepository;
      events: RealtimeEventRepository;
      /** The number used by tenants without their own (TWILIO_PHONE_NUMBER, or the sandbox's). */
      defaultNumber: string;
      logger: Logger;
    },
  ) {}

  /** The number tenants without their own text from and receive on. */
  get defaultNumber(): string {
    return this.deps.defaultNumber;
  }

  /** The number a tenant texts from and receives on. */
  senderNumber(tenant: Pick<TenantRow, 'twilio_phone_number'>): string {
    return tenant.twilio_phone_number ?? this.deps.defaultNumber;
  }

  /** Forgets Idempotency-Keys older than their time to live (run periodically); returns how many. */
  expireIdempotencyKeys(now = new Date()): Promise<number> {
    return this.deps.idempotencyKeys.expire(new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS));
  }

  /**
   * Queues an SMS to a patient: writes the entry and an outbox row in one
   * transaction (the outbox worker talks to the provider). With an idempotency
   * key, a repeat of the same request returns the first entry and sends nothing.
   */
  async send(
    key: PatientKey,
    input: { patientId: string; body: string; idempotencyKey: string | null },
    actor: AuditActor,
  ): Promise<{ entry: CorrespondenceEntry; replayed: boolean }> {
    const { correspondence, correspondenceService, patientService, outbox, idempotencyKeys } = this.deps;
    return this.db.transaction(async (trx) => {
      const patient = await patientService.requireVisible(key, input.patientId, trx);
      const requestHash = createHash('sha256').update(JSON.stringify([patient.id, input.body])).digest('hex');
      if (input.idempotencyKey && !(await idempotencyKeys.claim(trx, key, input.idempotencyKey, requestHash))) {
        const previous = await idempotencyKeys.find(trx, key, input.idempotencyKey);
        const row = previous?.request_hash === requestHash && previous.correspondence_id ? await correspondence.findById(key.tenantId, previous.correspondence_id, trx) : undefined;
        if (!row) throw unprocessable('idempotency_key_reused', 'This Idempotency-Key was already used for a different request');
        return { entry: toCorrespondence(row), replayed: true };
      }
      const phone = patient.phone ? toE164(patient.phone) : null;
      if (!phone || !isMobile(phone)) throw unprocessable('no_phone', 'The patient has no mobile number to text');
      if (patient.opted_out) throw conflict('opted_out', 'The patient has opted out of SMS (replied STOP); they can opt back in by replying START');

      const entry = await this.queue(trx, { tenantId: key.tenantId, patientId: patient.id, practitionerId: key.practitionerId, phone, body: input.body }, actor);
      if (input.idempotencyKey) await idempotencyKeys.bind(trx, key, input.idempotencyKey, entry.id);
      return { entry, replayed: false };
    });
  }

  /** Writes a queued outbound SMS and its outbox row inside `trx`. */
  private async queue(
    trx: Knex,
    sms: { tenantId: string; patientId: string; practitionerId: string | null; phone: string; body: string },
    actor: AuditActor,
  ): Promise<CorrespondenceEntry> {
    const { encoding, segments } = countSmsSegments(sms.body);
    const entry = await this.deps.correspondenceService.createRecorded(
      {
        tenant_id: sms.tenantId,
        patient_id: sms.patientId,
        practitioner_id: sms.practitionerId,
        channel: 'sms',
        direction: 'outbound',
        status: 'queued',
        body: sms.body,
        contact: sms.phone,
        segments,
        session: { encoding },
      },
      actor,
      trx,
    );
    await this.deps.outbox.enqueue({ tenantId: sms.tenantId, kind: 'sms.send', correspondenceId: entry.id }, trx);
    return entry;
  }

  /**
   * Applies a status report: recorded once per status (a duplicate is a no-op),
   * and the entry moves only forward, never out of a terminal status. Every
   * change is published as `correspondence.updated`. `alsoInTransaction`
   * runs in the same transaction whatever the outcome of a report that names
   * an entry (the outbox finishes its row there: one commit for both).
   */
  async applyStatus(update: StatusUpdate, actor: SystemActor, alsoInTransaction?: (trx: Knex) => Promise<unknown>): Promise<StatusOutcome> {
    const reference = update.reference && isUuid(update.reference) ? update.reference : null;
    // A report naming no entry needs no transaction.
    if (!reference && !update.sid) return 'unknown';
    return this.db.transaction(async (trx) => {
      const outcome = await this.applyStatusIn(trx, reference, update, actor);
      await alsoInTransaction?.(trx);
      return outcome;
    });
  }

  /**
   * The provider accepted a message the outbox sent for a still-queued entry:
   * its SID is recorded in one statement, which is all `applyStatus` would do
   * with that 'queued' report (the entry was created with its 'queued' event).
   * False, with nothing written, when the entry has moved on (e.g. its webhook
   * came first): then the report goes through `applyStatus`.
   */
  async recordAccepted(entry: { id: string; tenantId: string }, sid: string, actor: SystemActor): Promise<boolean> {
    const updated = await this.deps.correspondenceService.updateRecordedIf(
      entry.id,
      { status: 'queued', provider_sid: null },
      { provider_sid: sid },
      { ...actor, tenantId: entry.tenantId },
      'correspondence.sms.status',
    );
    return updated !== null;
  }

  private async applyStatusIn(trx: Knex, reference: string | null, update: StatusUpdate, actor: SystemActor): Promise<StatusOutcome> {
    const { correspondence, correspondenceService } = this.deps;
    const row = await correspondence.lockForUpdate({ id: reference, providerSid: reference ? null : update.sid }, trx);
    if (!row || row.channel !== 'sms' || row.direction !== 'outbound') return 'unknown';
    // A report about another message than the one recorded (e.g. a stray duplicate) must not touch this entry.
    if (update.sid && row.provider_sid && row.provider_sid !== update.sid) return 'unknown';

    const recorded = await correspondence.recordEvent(
      { correspondenceId: row.id, providerSid: update.sid ?? row.provider_sid, status: update.status, details: update.errorCode ? { errorCode: update.errorCode } : null },
      trx,
    );
    const changes: { status?: Status; provider_sid?: string; error_code?: string } = {};
    if (update.sid && !row.provider_sid) changes.provider_sid = update.sid;
    if (recorded && canTransition(row.status, update.status)) {
      changes.status = update.status;
      if (update.errorCode) changes.error_code = update.errorCode;
    }
    if (Object.keys(changes).length === 0) return recorded ? 'stale' : 'duplicate';
    await correspondenceService.updateRecorded(row.id, changes, { ...actor, tenantId: row.tenant_id }, 'correspondence.sms.status', trx);
    return 'applied';
  }

  /**
   * Stores an inbound SMS against the patient with that number in the tenant
   * owning the number it was sent to, and acts on STOP / START / HELP.
   * Delivered twice (same SID) it is stored once.
   */
  async receive(sms: InboundSms, actor: SystemActor): Promise<InboundOutcome> {
    const from = this.normalised(sms.from);
    const to = this.normalised(sms.to);
    const tenants = await this.tenantsReceivingOn(to);
    const keyword = smsKeyword(sms.body);
    let outcome: InboundOutcome = 'unknown_sender';
    const segments = countSmsSegments(sms.body).segments;
    for (const tenant of tenants) {
      const tenantActor = { ...actor, tenantId: tenant.id };
      try {
        // A plain reply from a number only one patient has: the sender's lookup and every write in one statement.
        if (keyword === null) {
          const entry = { tenantId: tenant.id, from, body: sms.body, providerSid: sms.sid || null, segments };
          const stored = await this.deps.correspondenceService.createInboundSms(entry, tenantActor);
          if (stored) {
            outcome = stored;
            continue;
          }
        }
        // Shared numbers (whoever was texted last) and keywords (consent, a reply) take a transaction.
        const patients = await this.deps.patients.findByPhone(tenant.id, from);
        if (patients.length === 0) continue;
        outcome = await this.db.transaction((trx) => this.storeInbound(trx, tenant, patients, { ...sms, from, segments }, keyword, tenantActor));
      } catch (error) {
        if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
        outcome = 'duplicate';
      }
    }
    if (outcome === 'unknown_sender') this.deps.logger.info({ tenants: tenants.length }, 'inbound SMS from an unknown sender ignored');
    return outcome;
  }

  private normalised(number: string): string {
    let e164 = this.e164.get(number);
    if (e164 === undefined) this.e164.set(number, (e164 = toE164(number) ?? number));
    return e164;
  }

  /**
   * Tenants receiving on a number, remembered for a few seconds: every inbound
   * webhook asks, and tenants' numbers change rarely (a number given to a
   * tenant by another process is picked up within TENANTS_BY_NUMBER_TTL_MS).
   */
  private async tenantsReceivingOn(number: string): Promise<TenantRow[]> {
    const now = Date.now();
    const cached = this.tenantsByNumber.get(number);
    if (cached && cached.until > now) return cached.tenants;
    const tenants = await this.deps.tenants.findByMessagingNumber(number, this.deps.defaultNumber);
    if (this.tenantsByNumber.size >= 1000) this.tenantsByNumber.clear();
    this.tenantsByNumber.set(number, { tenants, until: now + TENANTS_BY_NUMBER_TTL_MS });
    return tenants;
  }

  /**
   * Runs in a transaction. A duplicate SID is caught by the unique index (the
   * statement fails with a unique violation, reported as 'duplicate'), not by
   * a read before the insert.
   */
  private async storeInbound(
    trx: Knex,
    tenant: TenantRow,
    patients: PatientRow[],
    sms: InboundSms & { segments: number },
    keyword: SmsKeyword | null,
    actor: AuditActor,
  ): Promise<InboundOutcome> {
    const { correspondence, correspondenceService } = this.deps;
    // A number several patients share (a family phone): the reply goes to whoever was texted last.
    const patientId = patients.length > 1 ? ((await correspondence.lastTextedPatient(patients.map((p) => p.id), trx)) ?? patients[0]!.id) : patients[0]!.id;
    const entry = await correspondenceService.createRecorded(
      {
        tenant_id: tenant.id,
        patient_id: patientId,
        practitioner_id: null,
        channel: 'sms',
        direction: 'inbound',
        status: 'received',
        body: sms.body,
        contact: sms.from,
        provider_sid: sms.sid || null,
        segments: sms.segments,
      },
      actor,
      trx,
    );

    if (keyword === 'opt_out' || keyword === 'opt_in') {
      // Consent belongs to the number: every patient on it is opted out (or back in).
      const optedOut = keyword === 'opt_out';
      for (const patient of patients) {
        if (patient.opted_out === optedOut) continue;
        const updated = await this.deps.patients.setOptOut(patient.id, optedOut, trx);
        if (!updated) continue;
        await this.deps.audit.append(actor, optedOut ? 'patient.sms_opt_out' : 'patient.sms_opt_in', [patient.id], trx);
        await this.deps.events.publish({ tenantId: tenant.id, patientId: patient.id, type: 'patient.updated', payload: toPatient(updated) }, trx);
      }
    } else if (keyword === 'help') {
      const reply = tenant.help_reply ?? `${tenant.name}: reply STOP to stop messages, START to receive them again.`;
      await this.queue(trx, { tenantId: tenant.id, patientId, practitionerId: null, phone: sms.from, body: reply }, actor);
    }
    return 'stored';
  }
}
