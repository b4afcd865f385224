import type { CallStatus } from '@carecomms/core';
import type { WebhookParams } from './twilio-signature.js';
import { reportTime } from './report-time.js';

/**
 * Twilio's voice status callbacks, read into one shape. The webhook routes and
 * the sandbox (which builds the same form fields) both go through these, so
 * the rest of the server cannot tell a sandbox call from a Twilio one.
 */
export type VoiceEvent =
  | {
      kind: 'leg-status';
      callSid: string;
      status: CallStatus;
      /** `patient` when the callback URL says so; otherwise found from the SID. */
      leg: 'patient' | 'practitioner' | null;
      at: Date;
      sequence: number | null;
      /** CallDuration: from answer to hang-up, on `completed`. */
      durationSeconds: number | null;
      errorCode: string | null;
    }
  | {
      kind: 'conference';
      event: ConferenceEventName;
      conferenceSid: string;
      callSid: string | null;
      at: Date;
      sequence: number | null;
      reason: string | null;
    }
  | {
      kind: 'recording';
      recordingSid: string;
      status: 'in-progress' | 'completed' | 'absent' | 'failed';
      at: Date;
      durationSeconds: number | null;
      errorCode: string | null;
    };

export const CONFERENCE_EVENTS = [
  'conference-start',
  'conference-end',
  'participant-join',
  'participant-leave',
  'participant-hold',
  'participant-unhold',
] as const;
export type ConferenceEventName = (typeof CONFERENCE_EVENTS)[number];

const field = (params: WebhookParams, name: string): string | null => {
  const value = params[name];
  return typeof value === 'string' && value !== '' ? value : null;
};

const integer = (value: string | null): number | null => (value !== null && /^\d{1,9}$/.test(value) ? Number(value) : null);

/** Twilio's `Timestamp` (RFC 2822), or now when absent, unreadable or implausible. */
const timestamp = (params: WebhookParams, now: Date): Date => reportTime(field(params, 'Timestamp'), now);

/** Twilio's call statuses in ours (`answered` is how a participant's answer is reported); others give null. */
export function toCallStatus(status: string | null): CallStatus | null {
  switch (status) {
    case 'queued':
    case 'initiated':
      return 'initiated';
    case 'ringing':
      return 'ringing';
    case 'answered':
    case 'in-progress':
      return 'in-progress';
    case 'completed':
    case 'busy':
    case 'no-answer':
    case 'failed':
    case 'canceled':
      return status;
    default:
      return null;
  }
}

/** `/webhooks/twilio/call-status`: one leg's progress. */
export function parseCallStatus(params: WebhookParams, leg: string | null, now = new Date()): VoiceEvent | null {
  const callSid = field(params, 'CallSid');
  const status = toCallStatus(field(params, 'CallStatus'));
  if (!callSid || !status) return null;
  return {
    kind: 'leg-status',
    callSid,
    status,
    leg: leg === 'patient' || leg === 'practitioner' ? leg : null,
    at: timestamp(params, now),
    sequence: integer(field(params, 'SequenceNumber')),
    durationSeconds: status === 'completed' ? integer(field(params, 'CallDuration')) : null,
    errorCode: field(params, 'ErrorCode') ?? (status === 'failed' ? field(params, 'SipResponseCode') : null),
  };
}

/** `/webhooks/twilio/conference-status`: conference and participant events (others are ignored). */
export function parseConferenceStatus(params: WebhookParams, now = new Date()): VoiceEvent | null {
  const conferenceSid = field(params, 'ConferenceSid');
  const event = field(params, 'StatusCallbackEvent');
  if (!conferenceSid || !event || !(CONFERENCE_EVENTS as readonly string[]).includes(event)) return null;
  return {
    kind: 'conference',
    event: event as ConferenceEventName,
    conferenceSid,
    callSid: field(params, 'CallSid'),
    at: timestamp(params, now),
    sequence: integer(field(params, 'SequenceNumber')),
    reason: field(params, 'ReasonConferenceEnded'),
  };
}

/** `/webhooks/twilio/recording-status`: the conference recording's progress. */
export function parseRecordingStatus(params: WebhookParams, now = new Date()): VoiceEvent | null {
  const recordingSid = field(params, 'RecordingSid');
  const status = field(params, 'RecordingStatus');
  if (!recordingSid || !/^RE[0-9a-fA-F]{32}$/.test(recordingSid)) return null;
  if (status !== 'in-progress' && status !== 'completed' && status !== 'absent' && status !== 'failed') return null;
  const started = field(params, 'RecordingStartTime');
  return {
    kind: 'recording',
    recordingSid,
    status,
    at: started ? reportTime(started, timestamp(params, now)) : timestamp(params, now),
    durationSeconds: integer(field(params, 'RecordingDuration')),
    errorCode: field(params, 'ErrorCode'),
  };
}
