import type { Channel, Direction, Status } from './enums.js';

/** A patient as the API returns it. `phone` is E.164 or null. */
export interface Patient {
  id: string;
  externalId: string;
  name: string;
  phone: string | null;
  /** The phone number formatted for people, e.g. `+61 491 570 006`. */
  phoneDisplay: string | null;
  email: string | null;
  optedOut: boolean;
}

/** One exchange with a patient: an SMS, an email, a call or a video visit. */
export interface CorrespondenceEntry {
  id: string;
  patientId: string;
  /** The patient's name, for lists that span patients. Render as text. */
  patientName: string;
  /** null for inbound entries. */
  practitionerId: string | null;
  channel: Channel;
  direction: Direction;
  status: Status;
  body: string | null;
  /** The phone number or email address used. */
  contact: string | null;
  durationSeconds: number | null;
  hasRecording: boolean;
  notes: string | null;
  /** Call or video details (room, participants, timings). */
  session: Record<string, unknown> | null;
  providerSid: string | null;
  errorCode: string | null;
  /** `errorCode` in plain words for the practitioner (the server always sends it; null without an error). */
  errorReason?: string | null;
  /** SMS segment count. */
  segments: number | null;
  createdAt: string;
  updatedAt: string;
}

/** A page of a keyset-paginated list. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Practitioner {
  id: string;
  externalId: string;
  name: string;
}

export type Feature = 'sms' | 'voice' | 'video';

/** `GET /api/v1/session`. */
export interface SessionInfo {
  practitioner: Practitioner;
  tenant: { id: string; name: string };
  provider: 'twilio' | 'sandbox';
  features: Feature[];
  expiresAt: string;
}

export type CareEventType =
  | 'correspondence.created'
  | 'correspondence.updated'
  | 'call.updated'
  | 'video.updated'
  | 'patient.updated';

/** A realtime event as delivered over SSE. */
export interface CareEvent<T = unknown> {
  id: string;
  type: CareEventType;
  data: T;
}

/** RFC 9457 problem details, as every API error is returned. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  errors?: Array<{ path: string; message: string }>;
}
