import type { CallView, CorrespondenceEntry, RecordingLink, StartedCall } from '@carecomms/core';
import type { CallOptions } from './client.js';
import type { CallSession, CallSessionOptions } from './voice/session.js';

/** `client.calls`: phone calls to patients, placed from the browser. */
export interface CallsResource {
  /**
   * Starts a call: creates the voice entry (`initiated`) and returns the
   * browser's credential. Pass the result to {@link CallsResource.connect} to
   * place it; the patient's phone rings once the browser is connected.
   * Fails with `opted_out` (409), `no_phone` (422) or `not_found` (404).
   */
  start(patientId: string, options?: CallOptions): Promise<StartedCall>;
  /**
   * Places a started call from this browser: the microphone, the provider's
   * media (`@twilio/voice-sdk`, loaded now on first use, or the sandbox's
   * WebRTC) and live status. Throws `MediaAccessError` when the microphone
   * cannot be used (the call is then ended).
   */
  connect(call: StartedCall, options?: CallSessionOptions): Promise<CallSession>;
  /** The call's current state. */
  get(callId: string, options?: CallOptions): Promise<CallView>;
  /** Puts the patient on hold: they hear hold music. Only while the call is in progress (`call_not_in_progress`). */
  hold(callId: string, options?: CallOptions): Promise<CallView>;
  /** Takes the patient off hold. */
  resume(callId: string, options?: CallOptions): Promise<CallView>;
  /** Ends the call for both sides. Safe to repeat. */
  end(callId: string, options?: CallOptions): Promise<CallView>;
  /** Saves the call's notes (during or after the call; up to 10,000 characters; empty clears them). */
  updateNotes(callId: string, notes: string | null, options?: CallOptions): Promise<CorrespondenceEntry>;
  /** A short-lived absolute URL an `<audio>` element can stream the recording from. */
  recordingUrl(callId: string, options?: CallOptions): Promise<RecordingLink>;
}
