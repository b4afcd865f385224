import { randomBytes } from 'node:crypto';
import type { CallStatus } from '@carecomms/core';
import type { CallTokens } from '../auth/call-tokens.js';
import { sameSecret } from '../auth/same-secret.js';
import type { Logger } from '../logger.js';
import type { SignallingHub } from '../realtime/signalling.js';
import { parseRange, toneWav } from '../sandbox/tone.js';
import type { WebhookParams } from './twilio-signature.js';
import type { BrowserGrant, DialRequest, DialledLeg, ProviderCall, RecordingMedia, VoiceCallbacks, VoiceProvider } from './voice.js';

/** A call as the simulated phone sees it (`/sandbox/api/calls/events`). */
export interface SandboxPhoneCall {
  id: string;
  /** The clinic's number and name, as caller ID shows them. */
  from: string;
  clinicName: string | null;
  state: 'ringing' | 'in-progress' | 'ended';
  onHold: boolean;
  /** The clinic records the call: the phone shows (and says) the notice. */
  recording: boolean;
  /** How the call ended: completed, busy (declined), no-answer, canceled (the clinic hung up first). */
  outcome: CallStatus | null;
  answeredAt: string | null;
  endedAt: string | null;
  durationSeconds: number | null;
}

/** Posts a status callback to one of our own callback URLs, exactly as Twilio would (same fields, same handler). */
export type VoiceWebhookSink = (url: string, params: WebhookParams) => Promise<unknown>;

export interface SandboxVoiceOptions {
  /** How long the phone rings before the call is "no answer". */
  ringTimeoutMs: number;
  /** How long a seat may be empty (a reload, a dropped connection) before that side counts as hung up. */
  seatGraceMs: number;
}

interface SandboxCall {
  id: string;
  room: string;
  conferenceSid: string;
  callSid: string;
  from: string;
  to: string;
  clinicName: string | null;
  recording: boolean;
  callbacks: VoiceCallbacks;
  state: SandboxPhoneCall['state'];
  onHold: boolean;
  outcome: CallStatus | null;
  answeredAt: number | null;
  endedAt: number | null;
  durationSeconds: number | null;
  /** Proves the answering phone's seat on the signal endpoint. */
  patientKey: string | null;
  callSequence: number;
  conferenceSequence: number;
  timers: Map<'ring' | 'practitioner' | 'patient' | 'forget', NodeJS.Timeout>;
}

type PhoneListener = (call: SandboxPhoneCall) => void;

const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

/** How long an ended call is remembered, so a late Answer gets a clear "ended". */
const FORGET_AFTER_MS = 60_000;

export class SandboxCallError extends Error {
  constructor(readonly reason: 'not_found' | 'ended' | 'not_ringing' | 'not_in_progress') {
    super(reason);
  }
}

/**
 * Voice with no external service. The practitioner's browser and the patient
 * phone simulator talk WebRTC through the signalling hub (the conference's
 * name is the hub's room). Everything a phone network would report — ringing,
 * answer, busy, no answer, hang-up, hold, the recording — is posted to the
 * same status callback URLs with the same fields Twilio uses, so the server
 * handles a sandbox call exactly as a Twilio one. Single instance, in memory.
 */
export class SandboxVoiceProvider implements VoiceProvider {
  readonly name = 'sandbox' as const;
  readonly available = true;
  private readonly calls = new Map<string, SandboxCall>();
  private readonly listeners = new Map<string, Set<PhoneListener>>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly tones = new Map<number, Buffer>();
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly hub: SignallingHub,
    private readonly tokens: CallTokens,
    private readonly deliver: VoiceWebhookSink,
    private readonly logger: Logger,
    private readonly options: SandboxVoiceOptions,
  ) {}

  async stop(): Promise<void> {
    this.stopped = true;
    for (const call of this.calls.values()) for (const timer of call.timers.values()) clearTimeout(timer);
    await Promise.allSettled([...this.running]);
  }

  async browserToken(grant: BrowserGrant): Promise<string> {
    const expiresAt = new Date(Date.now() + grant.ttlSeconds * 1000);
    return this.tokens.seat({ callId: grant.callId, tenantId: grant.tenantId, role: 'practitioner', identity: grant.identity }, expiresAt);
  }

  async dialPatient(request: DialRequest): Promise<DialledLeg> {
    const call: SandboxCall = {
      id: request.callId,
      room: request.conferenceName,
      conferenceSid: sid('CF'),
      callSid: sid('CA'),
      from: request.from,
      to: request.to,
      clinicName: request.callerName,
      recording: request.recording,
      callbacks: request.callbacks,
      state: 'ringing',
      onHold: false,
      outcome: null,
      answeredAt: null,
      endedAt: null,
      durationSeconds: null,
      patientKey: null,
      callSequence: 0,
      conferenceSequence: 0,
      timers: new Map(),
    };
    this.calls.set(call.id, call);
    this.post(call, 'call', { CallStatus: 'initiated' });
    this.post(call, 'call', { CallStatus: 'ringing' });
    this.timer(call, 'ring', this.options.ringTimeoutMs, () => this.finish(call, 'no-answer'));
    this.notify(call);
    return { conferenceSid: call.conferenceSid, callSid: call.callSid };
  }

  async setHold(target: ProviderCall, hold: boolean): Promise<void> {
    const call = this.calls.get(target.id);
    if (!call || call.state !== 'in-progress') throw new SandboxCallError('not_in_progress');
    if (call.onHold === hold) return;
    call.onHold = hold;
    this.hub.send(call.room, { type: hold ? 'hold' : 'resume', from: 'practitioner' });
    this.post(call, 'conference', { StatusCallbackEvent: hold ? 'participant-hold' : 'participant-unhold', CallSid: call.callSid, Hold: String(hold) });
    this.notify(call);
  }

  /** The phone shows the notice itself (see `recording` in its call state). */
  async announceRecording(): Promise<void> {}

  async end(target: ProviderCall): Promise<void> {
    const call = this.calls.get(target.id);
    if (call && call.state !== 'ended') this.finish(call, 'api');
  }

  async recording(recording: { sid: string; durationSeconds: number | null }, range: string | null): Promise<RecordingMedia> {
    const seconds = Math.max(1, Math.round(recording.durationSeconds ?? 1));
    let wav = this.tones.get(seconds);
    if (!wav) {
      wav = toneWav(seconds);
      if (this.tones.size >= 8) this.tones.delete(this.tones.keys().next().value!);
      this.tones.set(seconds, wav);
    }
    const wanted = parseRange(range, wav.length);
    const headers: Record<string, string> = { 'accept-ranges': 'bytes' };
    if (wanted === 'unsatisfiable') return { status: 416, contentType: 'audio/wav', headers: { ...headers, 'content-range': `bytes */${wav.length}` }, body: null };
    if (!wanted) return { status: 200, contentType: 'audio/wav', headers: { ...headers, 'content-length': String(wav.length) }, body: wav };
    const part = wav.subarray(wanted.start, wanted.end + 1);
    return {
      status: 206,
      contentType: 'audio/wav',
      headers: { ...headers, 'content-length': String(part.length), 'content-range': `bytes ${wanted.start}-${wanted.end}/${wav.length}` },
      body: part,
    };
  }

  // The simulated phone.

  /** Live call states for a phone number; returns a function that stops them. */
  subscribe(phone: string, listener: PhoneListener): () => void {
    let set = this.listeners.get(phone);
    if (!set) this.listeners.set(phone, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(phone);
    };
  }

  /** Calls ringing or in progress on a phone (for a simulator that just opened). */
  active(phone: string): SandboxPhoneCall[] {
    return [...this.calls.values()].filter((c) => c.to === phone && c.state !== 'ended').map((c) => this.view(c));
  }

  /** The phone answers: the patient joins the conference. Returns the key to its signal seat. */
  answer(callId: string, phone: string): { call: SandboxPhoneCall; seatKey: string } {
    const call = this.phoneCall(callId, phone);
    if (call.state !== 'ringing') throw new SandboxCallError(call.state === 'ended' ? 'ended' : 'not_ringing');
    this.clear(call, 'ring');
    call.state = 'in-progress';
    call.answeredAt = Date.now();
    call.patientKey = randomBytes(24).toString('base64url');
    this.post(call, 'call', { CallStatus: 'in-progress' });
    this.post(call, 'conference', { StatusCallbackEvent: 'participant-join', CallSid: call.callSid });
    // Seated shortly: if the phone never opens its media seat, it hangs up like a dropped line.
    this.timer(call, 'patient', this.options.seatGraceMs, () => this.finish(call, 'patient'));
    this.notify(call);
    return { call: this.view(call), seatKey: call.patientKey };
  }

  /** The phone declines: the network reports the line busy. */
  decline(callId: string, phone: string): SandboxPhoneCall {
    const call = this.phoneCall(callId, phone);
    if (call.state !== 'ringing') throw new SandboxCallError(call.state === 'ended' ? 'ended' : 'not_ringing');
    this.finish(call, 'busy');
    return this.view(call);
  }

  /** The phone hangs up an answered call. */
  hangUp(callId: string, phone: string): SandboxPhoneCall {
    const call = this.phoneCall(callId, phone);
    if (call.state === 'ended') throw new SandboxCallError('ended');
    this.finish(call, call.state === 'ringing' ? 'busy' : 'patient');
    return this.view(call);
  }

  /** Whether `key` opens the patient's signal seat of this call. */
  patientSeat(callId: string, key: string): { room: string } | null {
    const call = this.calls.get(callId);
    if (!call?.patientKey || call.state !== 'in-progress') return null;
    return sameSecret(key, call.patientKey) ? { room: call.room } : null;
  }

  /**
   * A seat was taken or left. A seat left empty for `seatGraceMs` (a closed
   * tab, a lost network) is that side hanging up, as Twilio ends a conference
   * when a leg drops.
   */
  seat(callId: string, role: 'practitioner' | 'patient', present: boolean): void {
    const call = this.calls.get(callId);
    if (!call || call.state === 'ended') return;
    if (present) this.clear(call, role);
    else this.timer(call, role, this.options.seatGraceMs, () => this.finish(call, role));
  }

  private phoneCall(callId: string, phone: string): SandboxCall {
    const call = this.calls.get(callId);
    if (!call || call.to !== phone) throw new SandboxCallError('not_found');
    return call;
  }

  /**
   * The call ends: who or what ended it decides the patient leg's final
   * status, then the conference ends, the recording (if any) is reported, and
   * both seats are released.
   */
  private finish(call: SandboxCall, by: 'api' | 'practitioner' | 'patient' | 'busy' | 'no-answer'): void {
    if (call.state === 'ended') return;
    const answered = call.state === 'in-progress';
    for (const name of ['ring', 'practitioner', 'patient'] as const) this.clear(call, name);
    call.endedAt = Date.now();
    if (answered) {
      // In whole seconds of the clock, as the Timestamps of its reports count them.
      call.durationSeconds = Math.floor(call.endedAt / 1000) - Math.floor(call.answeredAt! / 1000);
      this.post(call, 'conference', { StatusCallbackEvent: 'participant-leave', CallSid: call.callSid });
      this.post(call, 'conference', {
        StatusCallbackEvent: 'conference-end',
        ReasonConferenceEnded: by === 'api' ? 'conference-ended-via-api' : 'participant-with-end-conference-on-exit-left',
        ...(by === 'patient' ? { CallSidEndingConference: call.callSid } : {}),
      });
      this.post(call, 'call', { CallStatus: 'completed', CallDuration: String(call.durationSeconds) });
      call.outcome = 'completed';
      if (call.recording) {
        this.post(call, 'recording', {
          RecordingSid: sid('RE'),
          RecordingStatus: 'completed',
          RecordingDuration: String(Math.max(1, call.durationSeconds)),
          RecordingChannels: '1',
          RecordingSource: 'Conference',
          RecordingStartTime: new Date(call.answeredAt!).toUTCString(),
        });
      }
    } else {
      const status: CallStatus = by === 'api' || by === 'practitioner' ? 'canceled' : by === 'no-answer' ? 'no-answer' : 'busy';
      this.post(call, 'call', { CallStatus: status, CallDuration: '0' });
      this.post(call, 'conference', {
        StatusCallbackEvent: 'conference-end',
        ReasonConferenceEnded: by === 'api' ? 'conference-ended-via-api' : 'participant-with-end-conference-on-exit-left',
      });
      call.outcome = status;
    }
    call.state = 'ended';
    call.onHold = false;
    // Each seat hears `bye` from the other; then the room is gone.
    this.hub.send(call.room, { type: 'bye', from: 'patient' });
    this.hub.close(call.room, 'practitioner');
    this.notify(call);
    this.timer(call, 'forget', FORGET_AFTER_MS, () => this.calls.delete(call.id));
  }

  /** Queues a status callback, Twilio-shaped, to the URL the call was dialled with. Delivered in order, after the current request. */
  private post(call: SandboxCall, kind: 'call' | 'conference' | 'recording', fields: Record<string, string>): void {
    const common = { AccountSid: 'AC' + '0'.repeat(32), ApiVersion: '2010-04-01', Timestamp: new Date().toUTCString() };
    let url: string;
    let params: WebhookParams;
    if (kind === 'call') {
      url = call.callbacks.callStatus;
      params = {
        ...common,
        CallSid: call.callSid,
        From: call.from,
        To: call.to,
        Direction: 'outbound-api',
        CallbackSource: 'call-progress-events',
        SequenceNumber: String(call.callSequence++),
        ...fields,
      };
    } else if (kind === 'conference') {
      url = call.callbacks.conferenceStatus;
      params = { ...common, ConferenceSid: call.conferenceSid, FriendlyName: call.room, SequenceNumber: String(call.conferenceSequence++), ...fields };
    } else {
      url = call.callbacks.recordingStatus;
      params = { ...common, CallSid: call.callSid, ConferenceSid: call.conferenceSid, ...fields };
    }
    const delivery = (this.chain = this.chain
      .then(() => new Promise((resolve) => setImmediate(resolve)))
      .then(() => (this.stopped ? undefined : this.deliver(url, params)))
      .catch((error: Error) => this.logger.warn({ callId: call.id, err: { message: error.message } }, 'sandbox voice callback failed')));
    this.running.add(delivery);
    void delivery.finally(() => this.running.delete(delivery));
  }

  private timer(call: SandboxCall, name: 'ring' | 'practitioner' | 'patient' | 'forget', ms: number, run: () => void): void {
    this.clear(call, name);
    if (this.stopped) return;
    const timer = setTimeout(() => {
      call.timers.delete(name);
      run();
    }, ms);
    timer.unref();
    call.timers.set(name, timer);
  }

  private clear(call: SandboxCall, name: 'ring' | 'practitioner' | 'patient' | 'forget'): void {
    const timer = call.timers.get(name);
    if (timer) clearTimeout(timer);
    call.timers.delete(name);
  }

  private view(call: SandboxCall): SandboxPhoneCall {
    return {
      id: call.id,
      from: call.from,
      clinicName: call.clinicName,
      state: call.state,
      onHold: call.onHold,
      recording: call.recording,
      outcome: call.outcome,
      answeredAt: call.answeredAt ? new Date(call.answeredAt).toISOString() : null,
      endedAt: call.endedAt ? new Date(call.endedAt).toISOString() : null,
      durationSeconds: call.durationSeconds,
    };
  }

  private notify(call: SandboxCall): void {
    const view = this.view(call);
    for (const listener of this.listeners.get(call.to) ?? []) listener(view);
  }
}
