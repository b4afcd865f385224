import type { Readable } from 'node:stream';

/** Where the provider reports on a call; every URL carries only the opaque call id. */
export interface VoiceCallbacks {
  /** Status of the patient's leg (initiated, ringing, answered, completed…). */
  callStatus: string;
  /** Conference events (start, end, join, leave, hold). */
  conferenceStatus: string;
  /** The conference recording (only when recording). */
  recordingStatus: string;
}

/** Dialling the patient into the call's conference. */
export interface DialRequest {
  callId: string;
  /** Opaque, unique: no PHI goes to the provider. */
  conferenceName: string;
  /** The clinic's number. */
  from: string;
  /** The clinic's name: the sandbox's phone shows it as the caller (Twilio's caller ID is the number). */
  callerName: string | null;
  /** The patient's number. */
  to: string;
  /** Record the conference (the tenant records calls). */
  recording: boolean;
  /** How long the patient's phone rings before the call counts as not answered. */
  ringTimeoutSeconds: number;
  callbacks: VoiceCallbacks;
}

export interface DialledLeg {
  conferenceSid: string;
  /** The patient leg's call SID. */
  callSid: string;
}

/** What the provider knows of the call when asked to act on it. */
export interface ProviderCall {
  id: string;
  conferenceName: string;
  conferenceSid: string | null;
  patientCallSid: string | null;
  /** The patient has answered (a ringing leg is cancelled rather than hung up). */
  answered: boolean;
}

/** A recording's bytes (or part of them, for a range request). */
export interface RecordingMedia {
  status: 200 | 206 | 416;
  contentType: string;
  headers: Record<string, string>;
  body: Readable | Buffer | null;
}

/** The browser's credential for one call. */
export interface BrowserGrant {
  callId: string;
  tenantId: string;
  /** Opaque identity, one per call. */
  identity: string;
  ttlSeconds: number;
}

/**
 * The outside world for voice calls (Twilio Programmable Voice, or the
 * sandbox's WebRTC and phone simulator). Every call is a two-party conference:
 * the browser joins it itself, the patient's phone is dialled into it.
 * Methods throw `ProviderError` on provider failures.
 */
export interface VoiceProvider {
  readonly name: 'twilio' | 'sandbox';
  /** Whether calls can be placed at all (Twilio needs a TwiML app for the browser leg). */
  readonly available: boolean;
  browserToken(grant: BrowserGrant): Promise<string>;
  /** Rings the patient's phone; once answered it joins the conference. */
  dialPatient(request: DialRequest): Promise<DialledLeg>;
  /** Puts the patient on hold (hold music) or takes them off it. */
  setHold(call: ProviderCall, hold: boolean): Promise<void>;
  /** Plays the recording notice to the patient (the browser leg hears it from its own TwiML). */
  announceRecording(call: ProviderCall, announceUrl: string): Promise<void>;
  /** Ends the call for both sides; a call that is already over is not an error. */
  end(call: ProviderCall): Promise<void>;
  /** Streams a recording; `range` is the request's Range header. */
  recording(recording: { sid: string; durationSeconds: number | null }, range: string | null): Promise<RecordingMedia>;
  stop(): Promise<void>;
}

/** A Voice token lives an hour (DESIGN); the call must start within it. */
export const VOICE_TOKEN_TTL_SECONDS = 3600;

/** How long the patient's phone rings before the call is "no answer" (Twilio's default is 60). */
export const RING_TIMEOUT_SECONDS = 30;
