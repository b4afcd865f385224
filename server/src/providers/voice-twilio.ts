import { Readable } from 'node:stream';
import twilio from 'twilio';
import type { TwilioConfig } from '../config.js';
import { AccessTokenSigner } from './access-tokens.js';
import { TwilioHttpClient } from './twilio.js';
import { classifyHttpFailure, classifyNetworkFailure, ProviderError } from './types.js';
import type { BrowserGrant, DialRequest, DialledLeg, ProviderCall, RecordingMedia, VoiceProvider } from './voice.js';

/** Twilio's own hold music (an MP3 Twilio hosts for exactly this). */
export const HOLD_MUSIC_URL = 'https://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3';

/** Conference events we follow: start and end, and each participant's join, leave and hold. */
export const CONFERENCE_STATUS_EVENTS = ['start', 'end', 'join', 'leave', 'hold'];

const RECORDING_TIMEOUT_MS = 30_000;

/**
 * Twilio Programmable Voice. The browser leg comes in through the TwiML app
 * (`/webhooks/twilio/voice` answers it with a `<Conference>`); the patient is
 * added to the same conference through the Participants REST API, which is
 * also how hold works (the browser SDK cannot hold a phone leg).
 */
export class TwilioVoiceProvider implements VoiceProvider {
  readonly name = 'twilio' as const;
  private readonly http: TwilioHttpClient;
  private readonly client: twilio.Twilio;
  private readonly signer: AccessTokenSigner;

  constructor(private readonly config: TwilioConfig, apiUrl: string | null) {
    this.http = new TwilioHttpClient(apiUrl, config.requestTimeoutMs);
    this.client = twilio(config.accountSid, config.authToken, { httpClient: this.http, autoRetry: false });
    this.signer = new AccessTokenSigner(config);
  }

  get available(): boolean {
    return this.config.twimlAppSid !== null;
  }

  async stop(): Promise<void> {}

  async browserToken(grant: BrowserGrant): Promise<string> {
    return this.signer.voice({
      identity: grant.identity,
      ttlSeconds: grant.ttlSeconds,
      outgoingApplicationSid: this.config.twimlAppSid,
      // Twilio passes these to the voice webhook, which checks the call belongs to this identity.
      outgoingApplicationParams: { callId: grant.callId },
    });
  }

  async dialPatient(request: DialRequest): Promise<DialledLeg> {
    // Addressed by the conference's name: the participant create makes the
    // conference if the browser leg has not reached it yet.
    const participant = await this.client.conferences(request.conferenceName).participants.create({
      from: request.from,
      to: request.to,
      label: 'patient',
      timeout: request.ringTimeoutSeconds,
      statusCallback: request.callbacks.callStatus,
      statusCallbackMethod: 'POST',
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      beep: 'false',
      startConferenceOnEnter: true,
      endConferenceOnExit: true,
      earlyMedia: false,
      conferenceStatusCallback: request.callbacks.conferenceStatus,
      conferenceStatusCallbackMethod: 'POST',
      conferenceStatusCallbackEvent: CONFERENCE_STATUS_EVENTS,
      ...(request.recording
        ? {
            conferenceRecord: 'record-from-start',
            conferenceRecordingStatusCallback: request.callbacks.recordingStatus,
            conferenceRecordingStatusCallbackMethod: 'POST',
            conferenceRecordingStatusCallbackEvent: ['completed', 'absent'],
          }
        : {}),
    });
    return { conferenceSid: participant.conferenceSid, callSid: participant.callSid };
  }

  async setHold(call: ProviderCall, hold: boolean): Promise<void> {
    if (!call.conferenceSid || !call.patientCallSid) throw new ProviderError('permanent', 'the patient is not in the call yet', { code: 'not_connected' });
    await this.client
      .conferences(call.conferenceSid)
      .participants(call.patientCallSid)
      .update(hold ? { hold: true, holdUrl: HOLD_MUSIC_URL, holdMethod: 'GET' } : { hold: false });
  }

  async announceRecording(call: ProviderCall, announceUrl: string): Promise<void> {
    if (!call.conferenceSid || !call.patientCallSid) return;
    await this.client.conferences(call.conferenceSid).participants(call.patientCallSid).update({ announceUrl, announceMethod: 'POST' });
  }

  async end(call: ProviderCall): Promise<void> {
    // A phone still ringing is not in the conference yet: cancel its call, then end the conference.
    if (!call.answered && call.patientCallSid) {
      await ignoreGone(this.client.calls(call.patientCallSid).update({ status: 'canceled' }));
    }
    if (call.conferenceSid) await ignoreGone(this.client.conferences(call.conferenceSid).update({ status: 'completed' }));
  }

  /**
   * The recording's MP3, fetched from Twilio with the account's credentials
   * (never handed to the browser) and passed through, Range and all.
   */
  async recording(recording: { sid: string }, range: string | null): Promise<RecordingMedia> {
    const url = this.http.rewrite(`https://api.twilio.com/2010-04-01/Accounts/${this.config.accountSid}/Recordings/${recording.sid}.mp3`);
    let response: Response;
    try {
      response = await fetch(url, {
        headers: {
          authorization: `Basic ${Buffer.from(`${this.config.accountSid}:${this.config.authToken}`).toString('base64')}`,
          ...(range ? { range } : {}),
        },
        signal: AbortSignal.timeout(RECORDING_TIMEOUT_MS),
      });
    } catch (error) {
      throw classifyNetworkFailure(error as { code?: string; message?: string });
    }
    if (response.status === 416) {
      await response.body?.cancel();
      return { status: 416, contentType: 'audio/mpeg', headers: pick(response.headers, ['content-range']), body: null };
    }
    if (response.status !== 200 && response.status !== 206) {
      await response.body?.cancel();
      throw classifyHttpFailure(response.status, null, null, `Twilio answered ${response.status} for a recording`);
    }
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? 'audio/mpeg',
      headers: pick(response.headers, ['content-length', 'content-range', 'accept-ranges']),
      body: response.body ? Readable.fromWeb(response.body as import('node:stream/web').ReadableStream) : null,
    };
  }
}

function pick(headers: Headers, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = headers.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}

/** A call or conference that has already ended answers 404 (or "not in progress"): nothing left to end. */
async function ignoreGone(request: Promise<unknown>): Promise<void> {
  try {
    await request;
  } catch (error) {
    if (error instanceof ProviderError && (error.options.httpStatus === 404 || error.code === '21220')) return;
    throw error;
  }
}
