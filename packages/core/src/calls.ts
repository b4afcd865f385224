import type { CorrespondenceEntry } from './types.js';

/** A voice call's status: Twilio's call statuses, as the patient's leg goes through them. */
export type CallStatus = 'initiated' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';

/** Statuses after which a call is over. */
export const ENDED_CALL_STATUSES: readonly CallStatus[] = ['completed', 'busy', 'no-answer', 'failed', 'canceled'];

/** A call as `GET /api/v1/calls/:id` and the `call.updated` event describe it. */
export interface CallView {
  id: string;
  /** The voice entry in the correspondence history. */
  correspondenceId: string;
  patientId: string;
  provider: 'twilio' | 'sandbox';
  status: CallStatus;
  /** The patient is on hold (hearing hold music). */
  onHold: boolean;
  /** The call is being recorded (the tenant records calls). */
  recording: boolean;
  /** When the patient answered (server time). */
  answeredAt: string | null;
  endedAt: string | null;
  /** From answer to hang-up, once the call is over. */
  durationSeconds: number | null;
  /** The provider's error code when the call failed. */
  errorCode: string | null;
}

/** `POST /api/v1/patients/:id/calls`: what the browser needs to place the call. */
export interface StartedCall {
  id: string;
  correspondenceId: string;
  /**
   * Twilio: a Voice access token (1 hour) for `@twilio/voice-sdk`. Sandbox: a
   * token for the call's signalling endpoint.
   */
  token: string;
  /** The browser's opaque identity for this call. */
  identity: string;
  provider: 'twilio' | 'sandbox';
  /** When `token` expires. */
  expiresAt: string;
  call: CallView;
  /** The new voice entry (status `initiated`). */
  entry: CorrespondenceEntry;
}

/** `POST /api/v1/calls/:id/recording/link`: a short-lived URL an `<audio>` element can stream. */
export interface RecordingLink {
  url: string;
  expiresAt: string;
}
