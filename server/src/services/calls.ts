import { randomBytes, randomUUID } from 'node:crypto';
import { canTransition, ENDED_CALL_STATUSES, type CallStatus, type CallView, type CorrespondenceEntry, type RecordingLink, type StartedCall } from '@carecomms/core';
import { toE164 } from '@carecomms/core/phone';
import type { CallTokens } from '../auth/call-tokens.js';
import type { Knex } from '../db/knex.js';
import { conflict, notFound, unavailable, unprocessable } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AuditActor, AuditRepository } from '../repositories/audit.js';
import type { CallChanges, CallEventRow, CallRepository, CallRow, NewCallEvent } from '../repositories/calls.js';
import type { CorrespondenceRepository, EntryChanges } from '../repositories/correspondence.js';
import { isUuid } from '../repositories/cursor.js';
import type { PatientKey } from '../repositories/patients.js';
import type { RealtimeEventRepository } from '../repositories/realtime-events.js';
import type { CorrespondenceRow } from '../repositories/rows.js';
import type { TenantRepository } from '../repositories/tenants.js';
import type { WebhookParams } from '../providers/twilio-signature.js';
import { ProviderError } from '../providers/types.js';
import { canonicalJson, providerFailure } from './common.js';
import { parseCallStatus, parseConferenceStatus, parseRecordingStatus, type VoiceEvent } from '../providers/voice-events.js';
import { RING_TIMEOUT_SECONDS, VOICE_TOKEN_TTL_SECONDS, type ProviderCall, type RecordingMedia, type VoiceProvider } from '../providers/voice.js';
import type { CorrespondenceService } from './correspondence.js';
import type { PatientService } from './patients.js';
import type { SmsService, SystemActor } from './sms.js';

/** Longest call notes, in characters. */
export const MAX_NOTES_LENGTH = 10_000;

/** How long a recording link works. */
const RECORDING_LINK_TTL_SECONDS = 300;

/** Calls nobody reports on any more are closed after these ages. */
const STALE_UNANSWERED_MS = (RING_TIMEOUT_SECONDS + 150) * 1000;
const STALE_IN_PROGRESS_MS = 12 * 3600 * 1000;
const STALE_BATCH = 50;

/** Who ended a call, as the entry's session records it. */
export type EndedBy = 'practitioner' | 'patient' | 'provider' | 'stale';

/** A call's state as computed from every report about it, whatever order they arrived in. */
export interface CallSummary {
  status: CallStatus;
  answeredAt: Date | null;
  endedAt: Date | null;
  durationSeconds: number | null;
  errorCode: string | null;
  endedBy: EndedBy | null;
  recordingSid: string | null;
  recordingDurationSeconds: number | null;
}

/** What the voice webhook (or the sandbox's browser seat) answers the browser's leg with. */
export type BrowserLegAnswer =
  | { action: 'join'; call: CallRow; notice: string | null }
  | { action: 'reject'; reason: 'unknown_call' | 'wrong_identity' | 'ended' | 'dial_failed' };

const ENDED = new Set<CallStatus>(ENDED_CALL_STATUSES);
const isEnded = (status: CallStatus) => ENDED.has(status);

const sameTime = (a: Date | null, b: Date | null) => (a === null || b === null ? a === b : new Date(a).getTime() === new Date(b).getTime());

/** Whole seconds between two instants, counted as Twilio's second-resolution timestamps count them. */
const seconds = (from: Date, to: Date) => Math.max(0, Math.floor(to.getTime() / 1000) - Math.floor(from.getTime() / 1000));

export const callNotInProgress = (detail: string) => conflict('call_not_in_progress', detail);

type Leg = 'patient' | 'practitioner' | null;

/**
 * Replays a call's reports in time order. The patient's leg decides the
 * outcome: ringing, answered (in progress), then completed, busy, no-answer,
 * failed or canceled. The clinic's side ending first (End pressed, the browser
 * leaving, the conference ending) completes an answered call and cancels an
 * unanswered one. The duration runs from answer to hang-up: Twilio's
 * CallDuration for the patient's leg when it has reported it, otherwise the
 * time between the answer and the first hang-up.
 */
export function summariseCall(call: Pick<CallRow, 'patient_call_sid' | 'practitioner_call_sid'>, events: CallEventRow[]): CallSummary {
  const sorted = [...events].sort(
    (a, b) => new Date(a.occurred_at).getTime() - new Date(b.occurred_at).getTime() || Number(a.id) - Number(b.id),
  );
  const patientSid = call.patient_call_sid ?? sorted.find((e) => e.kind === 'leg-status' && e.details?.leg === 'patient')?.sid ?? null;
  const legOf = (sid: string | null, declared: unknown): Leg =>
    declared === 'patient' || declared === 'practitioner'
      ? declared
      : sid && sid === patientSid
        ? 'patient'
        : sid && sid === call.practitioner_call_sid
          ? 'practitioner'
          : null;

  let ringing = false;
  let answeredAt: Date | null = null;
  let patientEnd: { status: CallStatus; at: Date; duration: number | null; errorCode: string | null } | null = null;
  /** The clinic's side ended; `ours` when we ended it (End pressed, or the stale sweep), not a report from the provider. */
  let clinicEnd: { at: Date; by: EndedBy; failed: boolean; ours: boolean } | null = null;
  let recordingSid: string | null = null;
  let recordingDurationSeconds: number | null = null;

  for (const event of sorted) {
    const at = new Date(event.occurred_at);
    const details = event.details ?? {};
    if (event.kind === 'leg-status') {
      const leg = legOf(event.sid, details.leg);
      const status = event.name as CallStatus;
      if (leg === 'patient') {
        if (status === 'ringing') ringing = true;
        if (status === 'in-progress') answeredAt ??= at;
        if (isEnded(status)) {
          patientEnd ??= {
            status,
            at,
            duration: typeof details.durationSeconds === 'number' ? details.durationSeconds : null,
            errorCode: typeof details.errorCode === 'string' ? details.errorCode : null,
          };
        }
      } else if (leg === 'practitioner' && isEnded(status)) {
        clinicEnd ??= { at, by: 'practitioner', failed: status === 'failed', ours: false };
      }
    } else if (event.kind === 'conference') {
      const participant = legOf(typeof details.callSid === 'string' ? details.callSid : null, null);
      if (event.name === 'participant-join' && participant === 'patient') answeredAt ??= at;
      if (event.name === 'conference-end') {
        const ender = legOf(typeof details.endedByCallSid === 'string' ? details.endedByCallSid : null, null);
        // Ended through the REST API: by us, for the reason our own `ended` report gives.
        const viaApi = details.reason === 'conference-ended-via-api';
        const by: EndedBy = ender ?? (viaApi ? ((sorted.find((e) => e.kind === 'ended')?.name as EndedBy | undefined) ?? 'practitioner') : 'provider');
        clinicEnd ??= { at, by, failed: false, ours: false };
      }
    } else if (event.kind === 'ended') {
      clinicEnd ??= { at, by: event.name === 'stale' ? 'stale' : 'practitioner', failed: false, ours: true };
    } else if (event.kind === 'recording' && event.name === 'completed' && event.sid) {
      recordingSid ??= event.sid;
      if (recordingSid === event.sid && typeof details.durationSeconds === 'number') recordingDurationSeconds = details.durationSeconds;
    }
  }

  const summary: CallSummary = {
    status: 'initiated',
    answeredAt,
    endedAt: null,
    durationSeconds: null,
    errorCode: null,
    endedBy: null,
    recordingSid,
    recordingDurationSeconds,
  };
  if (patientEnd) {
    // Twilio's timestamps have whole seconds: within the same second, the clinic's end came first (it caused the other).
    const clinicFirst = clinicEnd && Math.floor(clinicEnd.at.getTime() / 1000) <= Math.floor(patientEnd.at.getTime() / 1000);
    summary.endedAt = clinicFirst ? clinicEnd!.at : patientEnd.at;
    summary.endedBy = clinicFirst ? clinicEnd!.by : 'patient';
    summary.errorCode = patientEnd.errorCode;
    if (patientEnd.status === 'completed' && !answeredAt && !patientEnd.duration && clinicEnd) {
      // The conference ended while the phone was still ringing.
      summary.status = 'canceled';
    } else {
      summary.status = patientEnd.status;
      if (patientEnd.status === 'completed') {
        summary.durationSeconds = patientEnd.duration ?? (answeredAt ? seconds(answeredAt, summary.endedAt) : 0);
      }
    }
  } else if (clinicEnd && (answeredAt || clinicEnd.ours || clinicEnd.failed || !patientSid)) {
    // A provider's report that the clinic's side ended, with no word yet of the
    // patient's phone answering, is not enough to call the call canceled: the
    // phone's own final report always follows it, and an answer reported late
    // (a delayed callback) would find the call stuck in a wrong terminal status.
    summary.endedAt = clinicEnd.at;
    summary.endedBy = clinicEnd.by;
    if (answeredAt && clinicEnd.at.getTime() >= answeredAt.getTime()) {
      summary.status = 'completed';
      summary.durationSeconds = seconds(answeredAt, clinicEnd.at);
    } else if (clinicEnd.failed) {
      summary.status = 'failed';
    } else if (clinicEnd.by === 'stale') {
      summary.status = ringing ? 'no-answer' : 'failed';
    } else {
      summary.status = 'canceled';
    }
  } else if (answeredAt) {
    summary.status = 'in-progress';
  } else if (ringing) {
    summary.status = 'ringing';
  }
  return summary;
}

export function toCallView(call: CallRow): CallView {
  return {
    id: call.id,
    correspondenceId: call.correspondence_id,
    patientId: call.patient_id,
    provider: call.provider,
    status: call.status,
    onHold: call.on_hold && call.status === 'in-progress',
    recording: call.recording,
    answeredAt: call.answered_at ? new Date(call.answered_at).toISOString() : null,
    endedAt: call.ended_at ? new Date(call.ended_at).toISOString() : null,
    durationSeconds: call.duration_seconds,
    errorCode: call.error_code,
  };
}

/** A report in the shape `call_events` keeps it. */
function toNewEvent(event: VoiceEvent): Omit<NewCallEvent, 'callId'> {
  switch (event.kind) {
    case 'leg-status':
      return {
        kind: 'leg-status',
        sid: event.callSid,
        name: event.status,
        occurredAt: event.at,
        sequence: event.sequence,
        details: { leg: event.leg, durationSeconds: event.durationSeconds, errorCode: event.errorCode },
        dedupeKey: `leg:${event.callSid}:${event.status}`,
      };
    case 'conference':
      return {
        kind: 'conference',
        sid: event.conferenceSid,
        name: event.event,
        occurredAt: event.at,
        sequence: event.sequence,
        details: { callSid: event.callSid, reason: event.reason },
        dedupeKey:
          event.event === 'conference-start' || event.event === 'conference-end'
            ? `conf:${event.event}`
            : `conf:${event.event}:${event.callSid ?? ''}:${event.sequence ?? event.at.toISOString()}`,
      };
    case 'recording':
      return {
        kind: 'recording',
        sid: event.recordingSid,
        name: event.status,
        occurredAt: event.at,
        sequence: null,
        details: { durationSeconds: event.durationSeconds, errorCode: event.errorCode },
        dedupeKey: `rec:${event.recordingSid}:${event.status}`,
      };
  }
}

export interface CallServiceDeps {
  calls: CallRepository;
  correspondence: CorrespondenceRepository;
  correspondenceService: CorrespondenceService;
  patientService: PatientService;
  tenants: TenantRepository;
  audit: AuditRepository;
  events: RealtimeEventRepository;
  sms: SmsService;
  provider: VoiceProvider;
  tokens: CallTokens;
  baseUrl: string;
  logger: Logger;
  now?: () => Date;
}

/**
 * Voice calls: every call is a two-party conference with an opaque name. The
 * browser joins it with a Voice token (Twilio) or through the signalling hub
 * (sandbox); the patient's phone is dialled into it from the clinic's number.
 * Status, answer time, duration and recording come from the provider's
 * reports (Twilio's webhooks, or the sandbox's identical ones), all through
 * `handleWebhook`, and land on the voice entry in the history.
 */
export class CallService {
  constructor(
    private readonly db: Knex,
    private readonly deps: CallServiceDeps,
  ) {}

  get providerName(): 'twilio' | 'sandbox' {
    return this.deps.provider.name;
  }

  /** Whether calls can be placed with the live provider. */
  get available(): boolean {
    return this.deps.provider.available;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  private callbacks(callId: string) {
    const base = `${this.deps.baseUrl}/webhooks/twilio`;
    return {
      callStatus: `${base}/call-status?ref=${callId}&leg=patient`,
      conferenceStatus: `${base}/conference-status?ref=${callId}`,
      recordingStatus: `${base}/recording-status?ref=${callId}`,
    };
  }

  /** The status callback URLs the conference TwiML names (the browser leg's side of the same conference). */
  conferenceCallbacks(callId: string) {
    return this.callbacks(callId);
  }

  /** The URL Twilio fetches the patient's recording notice from. */
  noticeUrl(callId: string): string {
    return `${this.deps.baseUrl}/webhooks/twilio/recording-notice?ref=${callId}`;
  }

  /**
   * Starts a call: the voice entry (`initiated`) and the call, and the
   * browser's credential. The patient's phone rings once the browser's leg
   * connects (the voice webhook, or the sandbox's signal seat).
   */
  async start(key: PatientKey, patientId: string, actor: AuditActor): Promise<StartedCall> {
    const { calls, correspondence, correspondenceService, patientService, tenants, events, provider, sms } = this.deps;
    if (!provider.available) {
      throw unavailable('voice_unavailable', 'Calls need TWILIO_TWIML_APP_SID (a TwiML app whose voice URL is /webhooks/twilio/voice)');
    }
    const id = randomUUID();
    const identity = `clinician-${randomBytes(8).toString('hex')}`;
    const { call, entry } = await this.db.transaction(async (trx) => {
      const patient = await patientService.requireVisible(key, patientId, trx);
      const phone = patient.phone ? toE164(patient.phone) : null;
      if (!phone) throw unprocessable('no_phone', 'The patient has no phone number to call');
      // STOP opts a number out of texts, as carriers and Twilio define it, not out of the clinic's calls:
      // a patient who stopped reminders may still need a call about a result.
      const tenant = await tenants.findById(key.tenantId, trx);
      if (!tenant) throw notFound('Patient');
      const entry = await correspondenceService.create(
        {
          tenant_id: key.tenantId,
          patient_id: patient.id,
          practitioner_id: key.practitionerId,
          channel: 'voice',
          direction: 'outbound',
          status: 'initiated',
          contact: phone,
          session: { callId: id, provider: provider.name, recording: tenant.recording_enabled, answeredAt: null, endedAt: null },
        },
        actor,
        trx,
      );
      await correspondence.recordEvent({ correspondenceId: entry.id, providerSid: null, status: 'initiated' }, trx);
      const call = await calls.insert(
        {
          id,
          tenant_id: key.tenantId,
          patient_id: patient.id,
          practitioner_id: key.practitionerId,
          correspondence_id: entry.id,
          provider: provider.name,
          conference_name: `call-${randomBytes(16).toString('hex')}`,
          identity,
          from_number: sms.senderNumber(tenant),
          to_number: phone,
          recording: tenant.recording_enabled,
        },
        trx,
      );
      await events.publish({ tenantId: call.tenant_id, patientId: call.patient_id, type: 'call.updated', payload: toCallView(call) }, trx);
      return { call, entry };
    });
    // Tokens count their lifetime from when they are signed (JWT `iat`, whole seconds).
    const expiresAt = new Date(Math.floor(this.now().getTime() / 1000 + VOICE_TOKEN_TTL_SECONDS) * 1000);
    const token = await provider.browserToken({ callId: id, tenantId: key.tenantId, identity, ttlSeconds: VOICE_TOKEN_TTL_SECONDS });
    return {
      id,
      correspondenceId: call.correspondence_id,
      token,
      identity,
      provider: provider.name,
      expiresAt: expiresAt.toISOString(),
      call: toCallView(call),
      entry,
    };
  }

  /** The call if the practitioner may see its patient; 404 otherwise, as for an absent one. */
  async requireVisible(key: PatientKey, callId: string): Promise<CallRow> {
    const call = isUuid(callId) ? await this.deps.calls.findInTenant(key.tenantId, callId) : undefined;
    if (!call) throw notFound('Call');
    await this.deps.patientService.requireVisible(key, call.patient_id).catch(() => {
      throw notFound('Call');
    });
    return call;
  }

  /** A call's state: a read of the patient's data, so audited. */
  async get(key: PatientKey, callId: string, actor: AuditActor): Promise<CallView> {
    const call = await this.requireVisible(key, callId);
    await this.deps.audit.appendRead(actor, 'call.read', [call.patient_id]);
    return toCallView(call);
  }

  /** The call a sandbox seat token names (the token already proves the right to it). */
  findForSeat(tenantId: string, callId: string): Promise<CallRow | undefined> {
    return isUuid(callId) ? this.deps.calls.findInTenant(tenantId, callId) : Promise.resolve(undefined);
  }

  private providerCall(call: CallRow): ProviderCall {
    return {
      id: call.id,
      conferenceName: call.conference_name,
      conferenceSid: call.conference_sid,
      patientCallSid: call.patient_call_sid,
      answered: call.answered_at !== null,
    };
  }

  /**
   * The browser's leg has reached the provider (Twilio's voice webhook, or the
   * sandbox's signal seat). It joins the call's conference if the call is this
   * identity's and not over; the first time, the patient's phone is dialled.
   */
  async connectBrowserLeg(input: { callId: string | null; identity: string | null; callSid: string }, actor: SystemActor): Promise<BrowserLegAnswer> {
    const { calls, provider, tenants } = this.deps;
    const found = input.callId && isUuid(input.callId) ? await calls.findById(input.callId) : undefined;
    if (!found) return { action: 'reject', reason: 'unknown_call' };
    if (!input.identity || input.identity !== found.identity) return { action: 'reject', reason: 'wrong_identity' };
    const claimed = await this.db.transaction(async (trx) => {
      const call = await calls.lock(found.id, trx);
      if (!call || isEnded(call.status)) return null;
      // The first leg to arrive dials the patient; a browser re-joining (new connection) does not.
      const first = call.practitioner_call_sid === null;
      const updated = call.practitioner_call_sid === input.callSid ? call : await calls.update(call.id, { practitioner_call_sid: input.callSid }, trx);
      return { call: updated, first };
    });
    if (!claimed) return { action: 'reject', reason: 'ended' };
    let call = claimed.call;
    const tenant = await tenants.findById(call.tenant_id);
    if (claimed.first) {
      try {
        const leg = await provider.dialPatient({
          callId: call.id,
          conferenceName: call.conference_name,
          from: call.from_number,
          to: call.to_number,
          callerName: tenant?.name ?? null,
          recording: call.recording,
          ringTimeoutSeconds: RING_TIMEOUT_SECONDS,
          callbacks: this.callbacks(call.id),
        });
        call = await this.learnSids(call.id, { conference_sid: leg.conferenceSid, patient_call_sid: leg.callSid });
      } catch (error) {
        this.deps.logger.warn({ callId: call.id, err: { message: (error as Error).message } }, 'the patient could not be dialled');
        const code = error instanceof ProviderError ? error.code : null;
        await this.apply(
          call.id,
          {
            kind: 'leg-status',
            sid: null,
            name: 'failed',
            occurredAt: this.now(),
            sequence: null,
            details: { leg: 'patient', durationSeconds: null, errorCode: code },
            dedupeKey: 'leg:dial:failed',
          },
          actor,
        );
        return { action: 'reject', reason: 'dial_failed' };
      }
    }
    const notice = call.recording ? `${tenant?.name ?? 'The clinic'} records this call. Recording is on.` : null;
    return { action: 'join', call, notice };
  }

  /** The words the patient hears first when the call is recorded. */
  async recordingNotice(callId: string | null): Promise<string | null> {
    const call = callId && isUuid(callId) ? await this.deps.calls.findById(callId) : undefined;
    if (!call?.recording) return null;
    const tenant = await this.deps.tenants.findById(call.tenant_id);
    return `This call from ${tenant?.name ?? 'your clinic'} is recorded for your health record.`;
  }

  private async learnSids(callId: string, sids: Pick<CallChanges, 'conference_sid' | 'patient_call_sid'>): Promise<CallRow> {
    return this.db.transaction(async (trx) => {
      const call = await this.deps.calls.lock(callId, trx);
      const changes: CallChanges = {};
      if (sids.conference_sid && !call!.conference_sid) changes.conference_sid = sids.conference_sid;
      if (sids.patient_call_sid && !call!.patient_call_sid) changes.patient_call_sid = sids.patient_call_sid;
      return Object.keys(changes).length ? this.deps.calls.update(callId, changes, trx) : call!;
    });
  }

  /**
   * One of Twilio's voice status callbacks (or the sandbox's identical one):
   * `path` names which, `query` is the callback URL's query (our opaque `ref`).
   * Recorded once each, applied in any order. Unknown calls are ignored.
   */
  async handleWebhook(
    path: 'call-status' | 'conference-status' | 'recording-status',
    query: { ref?: string | null; leg?: string | null },
    params: WebhookParams,
    actor: SystemActor,
  ): Promise<'applied' | 'duplicate' | 'ignored'> {
    const now = this.now();
    const event =
      path === 'call-status' ? parseCallStatus(params, query.leg ?? null, now) : path === 'conference-status' ? parseConferenceStatus(params, now) : parseRecordingStatus(params, now);
    if (!event) return 'ignored';
    const sid = event.kind === 'leg-status' ? event.callSid : event.kind === 'conference' ? event.conferenceSid : null;
    const call =
      query.ref && isUuid(query.ref) ? await this.deps.calls.findById(query.ref) : sid ? await this.deps.calls.findBySid(sid) : undefined;
    if (!call) return 'ignored';
    // A report about another conference than the call's (a stray or forged ref) must not touch it.
    if (event.kind === 'conference' && call.conference_sid && call.conference_sid !== event.conferenceSid) return 'ignored';
    const record = toNewEvent(event);
    if (event.kind === 'conference' && typeof params.CallSidEndingConference === 'string') {
      record.details = { ...record.details, endedByCallSid: params.CallSidEndingConference };
    }
    const result = await this.apply(call.id, record, actor);
    if (!result?.applied) return result ? 'duplicate' : 'ignored';
    if (event.kind === 'conference' && event.event === 'participant-join' && result.call.recording && event.callSid === result.call.patient_call_sid) {
      await this.deps.provider.announceRecording(this.providerCall(result.call), this.noticeUrl(call.id)).catch((error: Error) => {
        this.deps.logger.warn({ callId: call.id, err: { message: error.message } }, 'the recording notice could not be played');
      });
    }
    return 'applied';
  }

  /**
   * The sandbox's status callbacks: posted to the same callback URLs, with the
   * same fields, as Twilio's, and handled by the same code.
   */
  async deliver(url: string, params: WebhookParams, actor: SystemActor): Promise<'applied' | 'duplicate' | 'ignored'> {
    const parsed = new URL(url);
    const path = parsed.pathname.slice(parsed.pathname.lastIndexOf('/') + 1);
    if (path !== 'call-status' && path !== 'conference-status' && path !== 'recording-status') return 'ignored';
    return this.handleWebhook(path, { ref: parsed.searchParams.get('ref'), leg: parsed.searchParams.get('leg') }, params, actor);
  }

  /** Puts the patient on hold (hold music) or takes them off; only while the call is in progress. */
  async setHold(key: PatientKey, callId: string, hold: boolean, actor: AuditActor): Promise<CallView> {
    const call = await this.requireVisible(key, callId);
    if (call.status !== 'in-progress') {
      throw callNotInProgress(isEnded(call.status) ? 'The call has ended' : 'The patient has not answered yet');
    }
    try {
      await this.deps.provider.setHold(this.providerCall(call), hold);
    } catch (error) {
      this.deps.logger.warn({ callId, err: { message: (error as Error).message } }, 'hold could not be changed');
      throw providerFailure('phone', error);
    }
    return this.db.transaction(async (trx) => {
      const locked = await this.deps.calls.lock(call.id, trx);
      const updated = locked!.on_hold === hold ? locked! : await this.deps.calls.update(call.id, { on_hold: hold }, trx);
      await this.deps.audit.append(actor, hold ? 'call.hold' : 'call.resume', [call.patient_id], trx);
      if (locked!.on_hold !== hold) await this.publish(updated, trx);
      return toCallView(updated);
    });
  }

  /**
   * Ends the call for both sides. Ending a call that is over is harmless: it
   * answers the call as it is.
   */
  async end(key: PatientKey, callId: string, actor: AuditActor): Promise<CallView> {
    const call = await this.requireVisible(key, callId);
    if (isEnded(call.status)) return toCallView(call);
    const result = await this.apply(
      call.id,
      { kind: 'ended', sid: null, name: 'practitioner', occurredAt: this.now(), sequence: null, details: null, dedupeKey: 'ended' },
      actor,
    );
    await this.hangUp(result?.call ?? call);
    return toCallView(result?.call ?? call);
  }

  private async hangUp(call: CallRow): Promise<void> {
    try {
      await this.deps.provider.end(this.providerCall(call));
    } catch (error) {
      // Over for us either way; the browser also drops its own leg, which ends the conference.
      this.deps.logger.warn({ callId: call.id, err: { message: (error as Error).message } }, 'the call could not be ended with the provider');
    }
  }

  /** Closes calls nobody reports on any more (lost callbacks, a browser that never connected). */
  async expireStale(): Promise<number> {
    const now = this.now();
    const stale = [
      ...(await this.deps.calls.staleOpen(new Date(now.getTime() - STALE_UNANSWERED_MS), ['initiated', 'ringing'], STALE_BATCH)),
      ...(await this.deps.calls.staleOpen(new Date(now.getTime() - STALE_IN_PROGRESS_MS), ['in-progress'], STALE_BATCH)),
    ];
    for (const call of stale) {
      const result = await this.apply(
        call.id,
        { kind: 'ended', sid: null, name: 'stale', occurredAt: now, sequence: null, details: null, dedupeKey: 'ended' },
        { type: 'system', id: 'call-expiry', requestId: null, ip: null },
      );
      await this.hangUp(result?.call ?? call);
    }
    return stale.length;
  }

  /** Call notes, during or after the call; empty clears them. */
  async updateNotes(key: PatientKey, callId: string, notes: string | null, actor: AuditActor): Promise<CorrespondenceEntry> {
    const call = await this.requireVisible(key, callId);
    return this.db.transaction(async (trx) => {
      const value = notes && notes.trim() ? notes : null;
      await this.deps.correspondence.updateEntry(call.correspondence_id, { notes: value }, trx);
      const row = await this.deps.correspondence.findById(call.tenant_id, call.correspondence_id, trx);
      return this.deps.correspondenceService.announce(row!, 'correspondence.updated', actor, 'correspondence.voice.notes', trx);
    });
  }

  private async requireRecording(call: CallRow): Promise<CorrespondenceRow & { recording_sid: string }> {
    const entry = await this.deps.correspondence.findById(call.tenant_id, call.correspondence_id);
    if (!entry?.recording_sid) throw notFound('Recording');
    return entry as CorrespondenceRow & { recording_sid: string };
  }

  /** A URL an `<audio>` element can stream the recording from for a few minutes. */
  async recordingLink(key: PatientKey, callId: string): Promise<RecordingLink> {
    const call = await this.requireVisible(key, callId);
    await this.requireRecording(call);
    const expiresAt = new Date(Math.floor(this.now().getTime() / 1000 + RECORDING_LINK_TTL_SECONDS) * 1000);
    const access = await this.deps.tokens.recording({ callId: call.id, tenantId: call.tenant_id, practitionerId: key.practitionerId }, expiresAt);
    return { url: `/api/v1/calls/${call.id}/recording?access=${access}`, expiresAt: expiresAt.toISOString() };
  }

  /**
   * Streams the recording to a practitioner who may see the patient. Each
   * playback is audited (its first request; later range requests continue it).
   */
  async openRecording(key: PatientKey, callId: string, range: string | null, actor: AuditActor): Promise<RecordingMedia> {
    const call = await this.requireVisible(key, callId);
    const entry = await this.requireRecording(call);
    if (!range || /^bytes=0-/.test(range.trim())) await this.deps.audit.appendRead(actor, 'call.recording.play', [call.patient_id]);
    const session = entry.session ?? {};
    try {
      return await this.deps.provider.recording(
        { sid: entry.recording_sid, durationSeconds: typeof session.recordingDurationSeconds === 'number' ? session.recordingDurationSeconds : entry.duration_seconds },
        range,
      );
    } catch (error) {
      this.deps.logger.warn({ callId, err: { message: (error as Error).message } }, 'the recording could not be fetched');
      throw providerFailure('phone', error);
    }
  }

  private async publish(call: CallRow, trx: Knex): Promise<void> {
    await this.deps.events.publish({ tenantId: call.tenant_id, patientId: call.patient_id, type: 'call.updated', payload: toCallView(call) }, trx);
  }

  /**
   * Records a report (once) and brings the call and its voice entry up to date
   * with everything reported so far. Null for an unknown call.
   */
  private async apply(
    callId: string,
    event: Omit<NewCallEvent, 'callId'>,
    actor: SystemActor | AuditActor,
  ): Promise<{ call: CallRow; applied: boolean } | null> {
    const { calls } = this.deps;
    return this.db.transaction(async (trx) => {
      const call = await calls.lock(callId, trx);
      if (!call) return null;
      if (!(await calls.recordEvent({ ...event, callId }, trx))) return { call, applied: false };

      const changes: CallChanges = {};
      const details = event.details ?? {};
      if (event.kind === 'leg-status' && details.leg === 'patient' && event.sid && !call.patient_call_sid) changes.patient_call_sid = event.sid;
      if (event.kind === 'conference' && event.sid && !call.conference_sid) changes.conference_sid = event.sid;
      const known = { ...call, ...changes };
      if (
        event.kind === 'conference' &&
        (event.name === 'participant-hold' || event.name === 'participant-unhold') &&
        details.callSid === known.patient_call_sid &&
        (event.sequence === null || known.hold_sequence === null || event.sequence > known.hold_sequence)
      ) {
        changes.on_hold = event.name === 'participant-hold';
        if (event.sequence !== null) changes.hold_sequence = event.sequence;
      }

      const summary = summariseCall(known, await calls.events(callId, trx));
      const status = canTransition(call.status, summary.status) ? summary.status : call.status;
      if (status !== call.status) changes.status = status;
      const answeredAt = status === 'in-progress' || status === 'completed' ? (summary.answeredAt ?? call.answered_at) : call.answered_at;
      if (!sameTime(answeredAt, call.answered_at)) changes.answered_at = answeredAt;
      if (isEnded(status)) {
        if (!sameTime(summary.endedAt, call.ended_at)) changes.ended_at = summary.endedAt;
        if (summary.durationSeconds !== call.duration_seconds) changes.duration_seconds = summary.durationSeconds;
        if (summary.errorCode && summary.errorCode !== call.error_code) changes.error_code = summary.errorCode;
        if (call.on_hold) changes.on_hold = false;
      }
      const updated = Object.keys(changes).length ? await calls.update(call.id, changes, trx) : call;
      if (canonicalJson(toCallView(updated)) !== canonicalJson(toCallView(call))) await this.publish(updated, trx);

      await this.updateEntry(updated, summary, event, actor, trx);
      return { call: updated, applied: true };
    });
  }

  /** Writes the call's state onto its voice entry and announces the change. */
  private async updateEntry(call: CallRow, summary: CallSummary, event: Omit<NewCallEvent, 'callId'>, actor: SystemActor | AuditActor, trx: Knex): Promise<void> {
    const { correspondence, correspondenceService, calls } = this.deps;
    const row = await correspondence.findById(call.tenant_id, call.correspondence_id, trx);
    if (!row) return;
    const previous = row.session ?? {};
    const ended = isEnded(call.status);
    const session: Record<string, unknown> = {
      ...previous,
      answeredAt: call.answered_at ? new Date(call.answered_at).toISOString() : null,
      endedAt: ended && call.ended_at ? new Date(call.ended_at).toISOString() : null,
      ...(ended && summary.endedBy ? { endedBy: summary.endedBy } : {}),
      ...(summary.recordingSid ? { recordingDurationSeconds: summary.recordingDurationSeconds } : {}),
    };
    const changes: EntryChanges = {};
    const moves = canTransition(row.status, call.status);
    if (moves) changes.status = call.status;
    const duration = ended ? call.duration_seconds : null;
    if (duration !== row.duration_seconds) changes.duration_seconds = duration;
    if (call.patient_call_sid && !row.provider_sid) changes.provider_sid = call.patient_call_sid;
    if (call.error_code && call.error_code !== row.error_code) changes.error_code = call.error_code;
    if (summary.recordingSid && !row.recording_sid) changes.recording_sid = summary.recordingSid;
    if (canonicalJson(previous) !== canonicalJson(session)) changes.session = session;
    if (Object.keys(changes).length === 0) return;
    if (moves) {
      await correspondence.recordEvent({ correspondenceId: row.id, providerSid: call.patient_call_sid, status: call.status }, trx);
    }
    await correspondence.updateEntry(row.id, changes, trx);
    const updated = await correspondence.findById(call.tenant_id, row.id, trx);
    const auditActor: AuditActor = { ...actor, tenantId: call.tenant_id };
    await correspondenceService.announce(updated!, 'correspondence.updated', auditActor, `correspondence.voice.${event.kind}`, trx);
  }
}
