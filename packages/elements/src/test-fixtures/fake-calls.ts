import type { CallView, CorrespondenceEntry, Patient, StartedCall } from '@carecomms/core';
import type { CallSession, CallSessionOptions, CallSessionState, CareClient } from '@carecomms/sdk';
import { newEntry } from './data.js';

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const problem = (status: number, code: string, detail: string) =>
  new Response(JSON.stringify({ type: `https://carecomms.dev/problems/${code}`, title: code, status, code, detail }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });

interface FakeCall {
  started: StartedCall;
  view: CallView;
  entry: CorrespondenceEntry;
}

const ENDED = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);

/**
 * Calls for the fake server: the REST side (start, hold, resume, end, notes,
 * recording links) with the server's rules, and sessions that stand in for
 * the SDK's media (a test drives them: ring, answer, hang up, level).
 */
export class FakeCalls {
  readonly calls = new Map<string, FakeCall>();
  /** Sessions handed out by `client.calls.connect`, newest last. */
  readonly sessions: FakeCallSession[] = [];
  /** Make `connect` fail with this (e.g. a `MicrophoneError`-shaped error). */
  connectError: unknown = null;
  private counter = 0;

  constructor(
    private readonly patients: () => Patient[],
    private readonly practitionerId: () => string,
    /** Records a new entry and announces it, as the server does when a call starts. */
    private readonly created: (entry: CorrespondenceEntry) => void,
  ) {}

  /** Replaces the client's media connect with a fake session. */
  wire(client: CareClient): CareClient {
    client.calls.connect = async (started: StartedCall, options?: CallSessionOptions) => {
      if (this.connectError) {
        const error = this.connectError;
        await client.calls.end(started.id);
        throw error;
      }
      const session = new FakeCallSession(client, started, options ?? {}, (changes) => {
        const call = this.calls.get(started.id);
        if (call) call.view = { ...call.view, ...changes };
      });
      this.sessions.push(session);
      return session as unknown as CallSession;
    };
    return client;
  }

  /** The latest session. */
  get session(): FakeCallSession | undefined {
    return this.sessions.at(-1);
  }

  route(method: string, url: URL, body: unknown): Response | null {
    const path = url.pathname;
    const start = /^\/api\/v1\/patients\/([^/]+)\/calls$/.exec(path);
    if (start && method === 'POST') return this.start(decodeURIComponent(start[1]!));
    const match = /^\/api\/v1\/calls\/([^/]+)(\/hold|\/resume|\/end|\/recording\/link)?$/.exec(path);
    if (!match) return null;
    const call = this.calls.get(decodeURIComponent(match[1]!));
    if (!call) return problem(404, 'not_found', 'Call not found');
    const action = match[2];
    if (method === 'GET' && !action) return json(call.view);
    if (method === 'PATCH' && !action) {
      const notes = (body as { notes?: string | null } | undefined)?.notes ?? null;
      call.entry = { ...call.entry, notes: notes || null };
      return json(call.entry);
    }
    if (method !== 'POST') return null;
    if (action === '/hold' || action === '/resume') {
      if (call.view.status !== 'in-progress') return problem(409, 'call_not_in_progress', 'The patient has not answered yet');
      call.view = { ...call.view, onHold: action === '/hold' };
      return json(call.view);
    }
    if (action === '/end') {
      if (!ENDED.has(call.view.status)) {
        const answered = call.view.status === 'in-progress';
        call.view = { ...call.view, status: answered ? 'completed' : 'canceled', onHold: false, durationSeconds: answered ? 42 : null };
      }
      return json(call.view);
    }
    if (action === '/recording/link') {
      return json({ url: `/api/v1/calls/${call.view.id}/recording?access=test-access`, expiresAt: new Date(Date.now() + 300_000).toISOString() }, 201);
    }
    return null;
  }

  private start(patientId: string): Response {
    const patient = this.patients().find((p) => p.id === patientId);
    if (!patient) return problem(404, 'not_found', 'Patient not found');
    if (!patient.phone) return problem(422, 'no_phone', 'The patient has no phone number to call');
    const id = `call-${++this.counter}`;
    const entry = newEntry({
      patientId,
      patientName: patient.name,
      practitionerId: this.practitionerId(),
      channel: 'voice',
      direction: 'outbound',
      status: 'initiated',
      body: null,
      contact: patient.phone,
      segments: null,
      session: { callId: id },
    });
    const view: CallView = {
      id,
      correspondenceId: entry.id,
      patientId,
      provider: 'sandbox',
      status: 'initiated',
      onHold: false,
      recording: false,
      answeredAt: null,
      endedAt: null,
      durationSeconds: null,
      errorCode: null,
    };
    const started: StartedCall = {
      id,
      correspondenceId: entry.id,
      token: 'call-token',
      identity: `clinician-${this.counter}`,
      provider: 'sandbox',
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      call: view,
      entry,
    };
    this.calls.set(id, { started, view, entry });
    this.created(entry);
    return json(started, 201);
  }
}

/** A stand-in for the SDK's `CallSession`: same surface, driven by the test instead of a phone network. */
export class FakeCallSession extends EventTarget {
  state: CallSessionState = 'connecting';
  view: CallView;
  muted = false;
  onHold = false;
  answeredAt: number | null = null;
  endedAt: number | null = null;
  durationSeconds: number | null = null;
  inputLevel = 0;
  error: unknown = null;
  microphoneId: string | null;
  /** Microphones switched to, in order. */
  readonly switchedTo: string[] = [];

  constructor(
    private readonly client: CareClient,
    readonly call: StartedCall,
    options: CallSessionOptions,
    /** Keeps the fake server's view of the call in step with what the test drives. */
    private readonly sync: (changes: Partial<CallView>) => void,
  ) {
    super();
    this.view = call.call;
    this.microphoneId = options.microphoneId ?? null;
  }

  get ended(): boolean {
    return ENDED.has(this.state);
  }

  // Driven by the test.

  ring(): void {
    this.sync({ status: 'ringing' });
    this.set({ state: 'ringing' });
  }

  /** The patient answers; `secondsAgo` backdates the answer to move the timer on. */
  answer(secondsAgo = 0): void {
    this.sync({ status: 'in-progress' });
    this.set({ state: 'in-progress', answeredAt: Date.now() - secondsAgo * 1000 });
  }

  reconnecting(on: boolean): void {
    this.set({ state: on ? 'reconnecting' : 'in-progress' });
  }

  level(level: number): void {
    this.inputLevel = level;
    this.dispatchEvent(new Event('level'));
  }

  /** The call ends from the other side (busy, no answer, the patient hung up…). */
  finish(state: CallSessionState, durationSeconds: number | null = null): void {
    if (this.ended) return;
    if (state !== 'connecting' && state !== 'ringing' && state !== 'in-progress' && state !== 'reconnecting') this.sync({ status: state, onHold: false });
    this.durationSeconds = durationSeconds;
    this.set({ state, endedAt: Date.now(), onHold: false });
    const event = new Event('ended') as Event & { state: CallSessionState; durationSeconds: number | null };
    Object.assign(event, { state, durationSeconds });
    this.dispatchEvent(event);
  }

  // The CallSession surface.

  setMuted(muted: boolean): void {
    this.set({ muted });
  }

  async hold(): Promise<void> {
    this.view = await this.client.calls.hold(this.call.id);
    this.set({ onHold: this.view.onHold });
  }

  async resume(): Promise<void> {
    this.view = await this.client.calls.resume(this.call.id);
    this.set({ onHold: this.view.onHold });
  }

  async end(): Promise<void> {
    if (this.ended) return;
    const view = await this.client.calls.end(this.call.id);
    this.finish(view.status as CallSessionState, view.durationSeconds);
  }

  async setMicrophone(deviceId: string): Promise<void> {
    this.switchedTo.push(deviceId);
    this.microphoneId = deviceId;
    this.dispatchEvent(new Event('change'));
  }

  private set(changes: Partial<Pick<FakeCallSession, 'state' | 'muted' | 'onHold' | 'answeredAt' | 'endedAt'>>): void {
    Object.assign(this, changes);
    this.dispatchEvent(new Event('change'));
  }
}
