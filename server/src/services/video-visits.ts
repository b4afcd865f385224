import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { canTransition, type CorrespondenceEntry, type Status } from '@carecomms/core';
import type { Knex } from '../db/knex.js';
import { AppError, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AuditActor, AuditRepository } from '../repositories/audit.js';
import type { CorrespondenceRepository, EntryChanges } from '../repositories/correspondence.js';
import { isUuid } from '../repositories/cursor.js';
import type { PatientKey } from '../repositories/patients.js';
import type { RealtimeEventRepository } from '../repositories/realtime-events.js';
import { toCorrespondence } from '../repositories/rows.js';
import type { TenantRepository } from '../repositories/tenants.js';
import type {
  NewVisitEvent,
  VideoVisitRepository,
  VideoVisitRow,
  VisitEventRow,
  VisitRole,
  VisitStatus,
} from '../repositories/video-visits.js';
import { reportTime } from '../providers/report-time.js';
import { canonicalJson, providerFailure } from './common.js';
import { VISIT_TTL_SECONDS, type VideoProvider } from '../providers/video.js';
import type { CorrespondenceService } from './correspondence.js';
import type { PatientService } from './patients.js';
import type { SmsService, SystemActor } from './sms.js';

/** What the practitioner gets when a visit starts. */
export interface StartedVisit {
  id: string;
  correspondenceId: string;
  /** Twilio: a Video access token for this room; sandbox: a seat token for the signal endpoints. */
  token: string;
  joinUrl: string;
  expiresAt: string;
  provider: 'twilio' | 'sandbox';
  roomName: string;
}

/** What a patient's join link opens: one seat in one room. */
export interface PatientSeat {
  visitId: string;
  token: string;
  provider: 'twilio' | 'sandbox';
  roomName: string;
  expiresAt: string;
  clinicName: string;
  practitionerName: string | null;
}

/** The visit as `video.updated` events describe it. */
export interface VisitView {
  id: string;
  correspondenceId: string;
  patientId: string;
  status: VisitStatus;
  present: Record<VisitRole, boolean>;
  startedAt: string | null;
  endedAt: string | null;
  durationSeconds: number | null;
}

export interface ParticipantSpan {
  role: VisitRole;
  joinedAt: string | null;
  leftAt: string | null;
}

/** A visit's state as computed from its events, whatever order they arrived in. */
export interface VisitSummary {
  /** The visit's (the room's) status. */
  status: VisitStatus;
  /** The entry's status: the visit's, except `no-answer` for a visit that ended without the patient ever joining. */
  entryStatus: Status;
  startedAt: Date | null;
  endedAt: Date | null;
  /** From both present to the end; null while the visit is open, and for a visit the patient never joined. */
  durationSeconds: number | null;
  present: Record<VisitRole, boolean>;
  participants: ParticipantSpan[];
}

export type JoinLinkState = { state: 'open'; visit: VideoVisitRow; linkId: string } | { state: 'gone' } | { state: 'not_found' };

/** Join tokens are 32 random bytes, base64url. */
const JOIN_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The join token at the start of what followed `/join/` when more came after
 * it: a full stop, comma or bracket that a phone's messaging app took into the
 * link, as they do with "…/join/abc." at the end of a sentence. Null when there
 * is no such token, or nothing after it.
 */
export function joinTokenWithin(text: string): string | null {
  const token = text.slice(0, 43);
  // The 44th character is not one a token could go on with ([A-Za-z0-9_-] is \w and -).
  return text.length > 43 && JOIN_TOKEN.test(token) && !/[\w-]/.test(text[43]!) ? token : null;
}
const OVERDUE_BATCH = 50;
/**
 * How long a room the provider reported ended, with no sign of the patient,
 * waits for reports that the patient had joined (Twilio's callbacks may arrive
 * in any order) before it is logged as not answered.
 */
const END_REPORT_GRACE_MS = 120_000;
/**
 * How long a visit waits for a practitioner who left (a reload, a closed tab, a
 * connection that did not come back) before it ends for the patient too.
 * Longer than Twilio's reconnection attempts (about 30 s), which report no leaving.
 */
export const PRACTITIONER_GONE_MS = 60_000;

/** The room's end, recorded once per visit whoever reports it (its dedupe key is the same for all). */
const roomEnded = (occurredAt: Date): Omit<NewVisitEvent, 'visitId'> => ({ kind: 'room-ended', role: null, participant: null, occurredAt, dedupeKey: 'room-ended' });

export const visitEnded = () => new AppError(410, 'visit_ended', 'Gone', 'This video visit has ended or its link has expired');

export const hashJoinToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Replays a visit's events in time order. Status only ever moves forward:
 * created → waiting (someone is in the room) → in-progress (both are) →
 * completed (the room ended). The visit lasts from the moment both were first
 * present to the end of the room; participant events after the end change nothing.
 *
 * A visit that ended without the patient ever in the room is `completed` as a
 * room, but its entry is `no-answer` with no duration, as an unanswered call.
 * That needs every report in: `final` says they are (the end was ours — End,
 * or expiry — or the provider's end has waited out its grace period). Until
 * then a provider's end with no patient seen leaves the visit in its open
 * status, ended (no one can join) but with its outcome to come.
 */
export function summarise(events: VisitEventRow[], final = true): VisitSummary {
  const sorted = [...events].sort((a, b) => new Date(a.occurred_at).getTime() - new Date(b.occurred_at).getTime() || Number(a.id) - Number(b.id));
  const endedAt = sorted.find((e) => e.kind === 'room-ended')?.occurred_at ?? null;
  const connected: Record<VisitRole, Set<string>> = { practitioner: new Set(), patient: new Set() };
  const spans = new Map<string, ParticipantSpan>();
  let startedAt: Date | null = null;
  let anyone = false;
  let patientJoined = false;
  for (const event of sorted) {
    const at = new Date(event.occurred_at);
    if (endedAt && at.getTime() > new Date(endedAt).getTime()) break;
    if (event.kind === 'room-ended' || !event.role) continue;
    const key = event.participant ?? event.role;
    if (event.kind === 'participant-connected') {
      anyone = true;
      if (event.role === 'patient') patientJoined = true;
      connected[event.role].add(key);
      const span = spans.get(key);
      if (span) span.joinedAt ??= at.toISOString();
      else spans.set(key, { role: event.role, joinedAt: at.toISOString(), leftAt: null });
    } else {
      connected[event.role].delete(key);
      const span = spans.get(key);
      if (span) span.leftAt = at.toISOString();
      else spans.set(key, { role: event.role, joinedAt: null, leftAt: at.toISOString() });
    }
    if (!startedAt && connected.practitioner.size > 0 && connected.patient.size > 0) startedAt = at;
  }
  const ended = endedAt ? new Date(endedAt) : null;
  const settled = ended && (patientJoined || final);
  const status: VisitStatus = settled ? 'completed' : startedAt ? 'in-progress' : anyone ? 'waiting' : 'created';
  const durationSeconds = ended && patientJoined ? (startedAt ? Math.max(0, Math.round((ended.getTime() - startedAt.getTime()) / 1000)) : 0) : null;
  return {
    status,
    entryStatus: settled && !patientJoined ? 'no-answer' : status,
    startedAt,
    endedAt: ended,
    durationSeconds,
    present: { practitioner: !ended && connected.practitioner.size > 0, patient: !ended && connected.patient.size > 0 },
    participants: [...spans.values()],
  };
}

/**
 * Video visits: a room with two seats on the live provider, a practitioner
 * token, patient join links (kept only as hashes), and the video entry in the
 * history, whose status, duration and session details follow the room's
 * events — Twilio's webhook, or the sandbox's own seat events.
 */
export class VideoVisitService {
  constructor(
    private readonly db: Knex,
    private readonly deps: {
      visits: VideoVisitRepository;
      correspondence: CorrespondenceRepository;
      correspondenceService: CorrespondenceService;
      patientService: PatientService;
      tenants: TenantRepository;
      audit: AuditRepository;
      events: RealtimeEventRepository;
      sms: SmsService;
      provider: VideoProvider;
      baseUrl: string;
      logger: Logger;
      now?: () => Date;
    },
  ) {}

  get providerName(): 'twilio' | 'sandbox' {
    return this.deps.provider.name;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  private joinUrl(token: string): string {
    return `${this.deps.baseUrl}/join/${token}`;
  }

  /** Creates the room, the video entry and a join link; returns the practitioner's token. */
  async start(key: PatientKey, patientId: string, actor: AuditActor): Promise<StartedVisit> {
    const { visits, correspondence, correspondenceService, patientService, events, provider } = this.deps;
    const patient = await patientService.requireVisible(key, patientId);
    const visitId = randomUUID();
    const roomName = `visit-${randomBytes(16).toString('hex')}`;
    const expiresAt = new Date(Math.floor(this.now().getTime() / 1000 + VISIT_TTL_SECONDS) * 1000);
    let room;
    try {
      room = await provider.createRoom({ uniqueName: roomName, statusCallbackUrl: `${this.deps.baseUrl}/webhooks/twilio/video-status?ref=${visitId}` });
    } catch (error) {
      this.deps.logger.warn({ err: { message: (error as Error).message } }, 'video room could not be created');
      throw providerFailure('video', error);
    }
    const joinToken = randomBytes(32).toString('base64url');
    const visit = await this.db.transaction(async (trx) => {
      const entry = await correspondenceService.create(
        {
          tenant_id: key.tenantId,
          patient_id: patient.id,
          practitioner_id: key.practitionerId,
          channel: 'video',
          direction: 'outbound',
          status: 'created',
          // Who the visit was for, in the history; texting the link later records the number it actually went to.
          contact: patient.phone,
          provider_sid: room.sid,
          session: { provider: provider.name, roomSid: room.sid, roomName, participants: [], startedAt: null, endedAt: null },
        },
        actor,
        trx,
      );
      await correspondence.recordEvent({ correspondenceId: entry.id, providerSid: room.sid, status: 'created' }, trx);
      const row = await visits.insert(
        {
          id: visitId,
          tenant_id: key.tenantId,
          patient_id: patient.id,
          practitioner_id: key.practitionerId,
          correspondence_id: entry.id,
          provider: provider.name,
          room_name: roomName,
          room_sid: room.sid,
          practitioner_identity: `practitioner-${randomBytes(8).toString('hex')}`,
          patient_identity: `patient-${randomBytes(8).toString('hex')}`,
          expires_at: expiresAt,
        },
        trx,
      );
      await visits.insertJoinLink({ visitId, tokenHash: hashJoinToken(joinToken), channel: 'dialog', expiresAt }, trx);
      await events.publish({ tenantId: row.tenant_id, patientId: row.patient_id, type: 'video.updated', payload: this.view(row, summarise([])) }, trx);
      return row;
    });
    const token = await provider.seatToken({
      visitId,
      tenantId: key.tenantId,
      role: 'practitioner',
      identity: visit.practitioner_identity,
      roomName,
      expiresAt,
    });
    return {
      id: visitId,
      correspondenceId: visit.correspondence_id,
      token,
      joinUrl: this.joinUrl(joinToken),
      expiresAt: expiresAt.toISOString(),
      provider: provider.name,
      roomName,
    };
  }

  /** The visit if the practitioner may see its patient; 404 otherwise, as for an absent one. */
  async requireVisible(key: PatientKey, visitId: string): Promise<VideoVisitRow> {
    const visit = isUuid(visitId) ? await this.deps.visits.findInTenant(key.tenantId, visitId) : undefined;
    if (!visit) throw notFound('Video visit');
    await this.deps.patientService.requireVisible(key, visit.patient_id).catch(() => {
      throw notFound('Video visit');
    });
    return visit;
  }

  /** The visit a seat token names (the token already proves the right to it). */
  findForSeat(tenantId: string, visitId: string): Promise<VideoVisitRow | undefined> {
    return this.deps.visits.findInTenant(tenantId, visitId);
  }

  isOpen(visit: VideoVisitRow): boolean {
    // An ended room whose outcome is still to come is as closed as a completed one.
    return visit.status !== 'completed' && !visit.ended_at && visit.expires_at.getTime() > this.now().getTime();
  }

  /**
   * Texts the patient a join link through the SMS pipeline (same opt-out and
   * no-phone rules and errors as any SMS). The link is a fresh one: only hashes
   * are kept, so the one shown to the practitioner cannot be rebuilt.
   */
  async sendLink(key: PatientKey, visitId: string, actor: AuditActor): Promise<CorrespondenceEntry> {
    const { visits, tenants, sms } = this.deps;
    const visit = await this.requireVisible(key, visitId);
    if (!this.isOpen(visit)) throw visitEnded();
    const tenant = await tenants.findById(visit.tenant_id);
    const joinToken = randomBytes(32).toString('base64url');
    const tokenHash = hashJoinToken(joinToken);
    await visits.insertJoinLink({ visitId, tokenHash, channel: 'sms', expiresAt: visit.expires_at });
    let entry: CorrespondenceEntry;
    try {
      ({ entry } = await sms.send(
        key,
        { patientId: visit.patient_id, body: `${tenant?.name ?? 'Your clinic'}: your video visit is ready. Join here: ${this.joinUrl(joinToken)}`, idempotencyKey: null },
        actor,
      ));
    } catch (error) {
      await visits.deleteJoinLink(tokenHash);
      throw error;
    }
    await this.db.transaction(async (trx) => {
      const locked = await visits.lock(visit.id, trx);
      const row = locked && (await this.deps.correspondence.findById(locked.tenant_id, locked.correspondence_id, trx));
      if (!row) return;
      await this.deps.correspondence.updateEntry(row.id, { contact: entry.contact, session: { ...row.session, linkSentAt: entry.createdAt } }, trx);
      const updated = await this.deps.correspondence.findById(row.tenant_id, row.id, trx);
      await this.deps.correspondenceService.announce(updated!, 'correspondence.updated', actor, 'correspondence.video.link_sent', trx);
    });
    return entry;
  }

  /**
   * Ends the visit for both sides and logs it: `completed` with its duration, or
   * `no-answer` if the patient never joined. Idempotent: ending an ended visit
   * returns the same entry (and asks the provider again to close the room, in
   * case the first attempt did not reach it).
   */
  async end(key: PatientKey, visitId: string, actor: AuditActor): Promise<CorrespondenceEntry> {
    const visit = await this.requireVisible(key, visitId);
    const entry = await this.apply(
      visit.id,
      roomEnded(this.now()),
      actor,
      { endedBy: 'practitioner', final: true },
    );
    await this.closeRoom(visit);
    return entry!;
  }

  private async closeRoom(visit: VideoVisitRow): Promise<void> {
    try {
      await this.deps.provider.completeRoom({ sid: visit.room_sid, name: visit.room_name });
    } catch (error) {
      // The visit is over for us either way; Twilio also ends an empty room on its own.
      this.deps.logger.warn({ visitId: visit.id, err: { message: (error as Error).message } }, 'video room could not be completed');
    }
  }

  /** What a join link opens, without using it (the join page decides between the room and a 404 or 410 page). */
  async resolveJoinToken(token: string): Promise<JoinLinkState> {
    if (!JOIN_TOKEN.test(token)) return { state: 'not_found' };
    const link = await this.deps.visits.findJoinLink(hashJoinToken(token));
    if (!link) return { state: 'not_found' };
    const visit = await this.deps.visits.findById(link.visit_id);
    if (!visit) return { state: 'not_found' };
    if (!this.isOpen(visit) || link.expires_at.getTime() <= this.now().getTime()) return { state: 'gone' };
    return { state: 'open', visit, linkId: link.id };
  }

  /** The patient's seat for a join link: 404 for a forged link, 410 once the visit is over. */
  async join(token: string, actor: Omit<AuditActor, 'tenantId' | 'type' | 'id'>): Promise<PatientSeat> {
    const resolved = await this.resolveJoinToken(token);
    if (resolved.state === 'not_found') throw notFound('Join link');
    if (resolved.state === 'gone') throw visitEnded();
    const { visit } = resolved;
    await this.deps.visits.recordJoinLinkUse(resolved.linkId);
    await this.deps.audit.append({ ...actor, tenantId: visit.tenant_id, type: 'patient', id: null }, 'video.join', [visit.patient_id]);
    const [tenant, practitioner] = await Promise.all([
      this.deps.tenants.findById(visit.tenant_id),
      visit.practitioner_id ? this.deps.tenants.findPractitioner(visit.tenant_id, visit.practitioner_id) : undefined,
    ]);
    const seatToken = await this.deps.provider.seatToken({
      visitId: visit.id,
      tenantId: visit.tenant_id,
      role: 'patient',
      identity: visit.patient_identity,
      roomName: visit.room_name,
      expiresAt: visit.expires_at,
    });
    return {
      visitId: visit.id,
      token: seatToken,
      provider: this.deps.provider.name,
      roomName: visit.room_name,
      expiresAt: visit.expires_at.toISOString(),
      clinicName: tenant?.name ?? '',
      practitionerName: practitioner?.name ?? null,
    };
  }

  /** A seat in a sandbox room was taken or left (the sandbox's stand-in for Twilio's participant events). */
  async seatEvent(visitId: string, role: VisitRole, participant: string, kind: 'participant-connected' | 'participant-disconnected'): Promise<void> {
    await this.apply(visitId, { kind, role, participant, occurredAt: this.now(), dedupeKey: `${kind}:${participant}` }, { type: 'system', id: 'sandbox', requestId: null, ip: null });
  }

  /**
   * One of Twilio's room status callbacks. Participants are told apart by the
   * opaque identities we issued; anything else (track events, strangers) is ignored.
   */
  async applyTwilioEvent(
    input: { visitId: string | null; roomSid: string | null; event: string; participantSid: string | null; identity: string | null; timestamp: string | null },
    actor: SystemActor,
  ): Promise<'applied' | 'duplicate' | 'ignored'> {
    const { visits } = this.deps;
    const visit = input.visitId && isUuid(input.visitId) ? await visits.findById(input.visitId) : input.roomSid ? await visits.findByRoomSid(input.roomSid) : undefined;
    if (!visit || (input.roomSid && visit.room_sid !== input.roomSid)) return 'ignored';
    const occurredAt = reportTime(input.timestamp, this.now());
    let event: Omit<NewVisitEvent, 'visitId'>;
    if (input.event === 'room-ended') {
      event = roomEnded(occurredAt);
    } else if (input.event === 'participant-connected' || input.event === 'participant-disconnected') {
      const role: VisitRole | null =
        input.identity === visit.practitioner_identity ? 'practitioner' : input.identity === visit.patient_identity ? 'patient' : null;
      if (!role || !input.participantSid) return 'ignored';
      event = { kind: input.event, role, participant: input.participantSid, occurredAt, dedupeKey: `${input.event}:${input.participantSid}` };
    } else {
      return 'ignored';
    }
    const result = await this.apply(visit.id, event, actor, input.event === 'room-ended' ? { endedBy: 'provider' } : {});
    return result ? 'applied' : 'duplicate';
  }

  /**
   * Ends visits past their expiry that nobody ended (their links already answer
   * 410), settles those whose room the provider reported ended, with no sign
   * of the patient, once no report has come for the grace period, and ends
   * those the practitioner left PRACTITIONER_GONE_MS ago without coming back
   * (`endedBy: 'practitioner-left'`; the patient's page then says the visit ended).
   */
  async expireOverdue(): Promise<number> {
    const now = this.now();
    const overdue = await this.deps.visits.overdue(now, new Date(now.getTime() - END_REPORT_GRACE_MS), OVERDUE_BATCH);
    for (const visit of overdue) await this.endUnattended(visit, visit.expires_at, 'video-expiry', 'expired');
    // A practitioner who left cannot come back to this room: end it rather than keep the patient waiting for hours.
    const abandoned = await this.deps.visits.practitionerGone(new Date(now.getTime() - PRACTITIONER_GONE_MS), OVERDUE_BATCH);
    for (const visit of abandoned) await this.endUnattended(visit, now, 'video-practitioner-gone', 'practitioner-left');
    return overdue.length + abandoned.length;
  }

  /** The sweep's end of a visit nobody ended: final, so its outcome is settled whatever reports are missing. */
  private async endUnattended(visit: VideoVisitRow, occurredAt: Date, actorId: string, endedBy: string): Promise<void> {
    await this.apply(visit.id, roomEnded(occurredAt), { type: 'system', id: actorId, requestId: null, ip: null }, { endedBy, final: true });
    // The provider already closed a room it reported ended.
    if (!visit.ended_at) await this.closeRoom(visit);
  }

  /**
   * Records an event (once) and brings the visit and its entry up to date with
   * everything recorded so far. Returns the entry, or null for a duplicate.
   * `final`: no more reports can change the outcome (see {@link summarise}), so
   * even a duplicate end settles a visit still waiting for its outcome.
   */
  private async apply(
    visitId: string,
    event: Omit<NewVisitEvent, 'visitId'>,
    actor: SystemActor | AuditActor,
    extra: { endedBy?: string; final?: boolean } = {},
  ): Promise<CorrespondenceEntry | null> {
    const { visits, correspondence, correspondenceService, events } = this.deps;
    return this.db.transaction(async (trx) => {
      const visit = await visits.lock(visitId, trx);
      if (!visit) return null;
      const fresh = await visits.recordEvent({ ...event, visitId }, trx);
      const entryRow = await correspondence.findById(visit.tenant_id, visit.correspondence_id, trx);
      if (!entryRow) return null;
      // A duplicate changes nothing, except our own end settling a visit whose outcome was still to come.
      const outcomeToCome = visit.ended_at !== null && visit.status !== 'completed';
      if (!fresh && !(extra.final && outcomeToCome)) return toCorrespondence(entryRow);

      const summary = summarise(await visits.events(visit.id, trx), extra.final === true || visit.status === 'completed');
      const auditActor: AuditActor = { ...actor, tenantId: visit.tenant_id };
      // Late events may refine the timings, never move the status back.
      const status = canTransition(visit.status, summary.status) ? summary.status : visit.status;
      const updatedVisit = await visits.update(visit.id, { status, started_at: summary.startedAt, ended_at: summary.endedAt }, trx);
      const previous = entryRow.session ?? {};
      const session = {
        ...previous,
        participants: summary.participants,
        startedAt: summary.startedAt?.toISOString() ?? null,
        endedAt: summary.endedAt?.toISOString() ?? null,
        ...(summary.endedAt && extra.endedBy && !previous.endedBy ? { endedBy: extra.endedBy } : {}),
      };
      const moves = canTransition(entryRow.status, summary.entryStatus);
      // A visit logged as not answered keeps no duration, whatever a late report says.
      const durationSeconds = (moves ? summary.entryStatus : entryRow.status) === 'no-answer' ? null : summary.durationSeconds;
      if (!moves && entryRow.duration_seconds === durationSeconds && canonicalJson(previous) === canonicalJson(session)) {
        return toCorrespondence(entryRow);
      }
      const changes: EntryChanges = { session, duration_seconds: durationSeconds };
      if (moves) {
        changes.status = summary.entryStatus;
        await correspondence.recordEvent({ correspondenceId: entryRow.id, providerSid: visit.room_sid, status: summary.entryStatus }, trx);
      }
      await correspondence.updateEntry(entryRow.id, changes, trx);
      const updatedEntry = await correspondence.findById(visit.tenant_id, entryRow.id, trx);
      const entry = await correspondenceService.announce(updatedEntry!, 'correspondence.updated', auditActor, `correspondence.video.${event.kind}`, trx);
      await events.publish({ tenantId: visit.tenant_id, patientId: visit.patient_id, type: 'video.updated', payload: this.view(updatedVisit, { ...summary, status, durationSeconds }) }, trx);
      return entry;
    });
  }

  private view(visit: VideoVisitRow, summary: VisitSummary): VisitView {
    return {
      id: visit.id,
      correspondenceId: visit.correspondence_id,
      patientId: visit.patient_id,
      status: summary.status,
      present: summary.present,
      startedAt: summary.startedAt?.toISOString() ?? null,
      endedAt: summary.endedAt?.toISOString() ?? null,
      durationSeconds: summary.durationSeconds,
    };
  }
}
