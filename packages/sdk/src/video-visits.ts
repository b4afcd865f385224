import type { CorrespondenceEntry } from '@carecomms/core';
import type { CallOptions } from './client.js';
import { Transport } from './transport.js';
import type { VideoSession, VideoSessionMedia } from './video/session.js';

/** `POST /api/v1/patients/:id/video-visits`: a visit the practitioner just started. */
export interface VideoVisit {
  id: string;
  /** The visit's entry in the correspondence history. */
  correspondenceId: string;
  /** Twilio: a Video access token for this room only. Sandbox: the seat token for the signal endpoint. */
  token: string;
  /** The patient's link; opens one patient seat until the visit ends or expires. */
  joinUrl: string;
  expiresAt: string;
  provider: 'twilio' | 'sandbox';
  roomName: string;
}

/** `client.videoVisits`: the practitioner's side of video visits. */
export interface VideoVisitsResource {
  /** Starts a visit: a two-seat room, the practitioner's token and the patient's join link. */
  start(patientId: string, options?: CallOptions): Promise<VideoVisit>;
  /** Texts the patient a join link (SMS rules apply: `opted_out`, `no_phone`); returns the queued SMS entry. */
  sendLink(visitId: string, options?: CallOptions): Promise<CorrespondenceEntry>;
  /** Ends the visit for both sides; returns the video entry: `completed` with its duration, or `no-answer` when the patient never joined. Safe to repeat. */
  end(visitId: string, options?: CallOptions): Promise<CorrespondenceEntry>;
  /**
   * The practitioner's side of a started visit, not yet connected: add listeners, then `connect()`.
   * `twilio-video` (on Twilio) loads only when it connects.
   */
  session(visit: VideoVisit, media: VideoSessionMedia): Promise<VideoSession>;
}

/** `POST /api/v1/join/:token`: the patient's seat in the visit a join link opens. */
export interface PatientSeat {
  visitId: string;
  token: string;
  provider: 'twilio' | 'sandbox';
  roomName: string;
  expiresAt: string;
  clinicName: string;
  practitionerName: string | null;
}

/** A `video.updated` event's data. */
export interface VideoVisitUpdate {
  id: string;
  correspondenceId: string;
  patientId: string;
  status: 'created' | 'waiting' | 'in-progress' | 'completed';
  present: { practitioner: boolean; patient: boolean };
  startedAt: string | null;
  endedAt: string | null;
  durationSeconds: number | null;
}

export interface JoinVisitOptions {
  fetch?: typeof fetch | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * The patient's side: exchanges the token from a join link (`/join/<token>`)
 * for a seat. Needs no account. Throws `CareApiError`: `not_found` (404) for a
 * link that does not exist, `visit_ended` (410) once the visit is over or the
 * link has expired, `rate_limited` (429) after too many attempts.
 */
export function joinVisit(baseUrl: string, joinToken: string, options: JoinVisitOptions = {}): Promise<PatientSeat> {
  const transport = new Transport({ baseUrl, fetch: options.fetch });
  return transport.json<PatientSeat>(`/api/v1/join/${encodeURIComponent(joinToken)}`, { method: 'POST', signal: options.signal });
}

/** The URL of a sandbox visit's signal endpoint. */
export function signalUrl(baseUrl: string, visitId: string): string {
  return new Transport({ baseUrl }).url(`/api/v1/video-visits/${encodeURIComponent(visitId)}/signal`);
}
