import { ENDED_CALL_STATUSES, type CallStatus, type CallView, type StartedCall } from '@carecomms/core';
import type { CareClient } from '../client.js';
import { SandboxVoiceTransport } from './sandbox-transport.js';
import type { MediaState, VoiceTransport, VoiceTransportHandlers } from './transport.js';
import { TwilioVoiceTransport } from './twilio-transport.js';

/**
 * Where a call stands, as the practitioner sees it: the patient's phone
 * `ringing`, the call `in-progress` (or `reconnecting` while the browser's
 * audio recovers), or over: `completed`, `busy`, `no-answer`, `failed`,
 * `canceled` (hung up before the patient answered).
 */
export type CallSessionState = 'connecting' | 'ringing' | 'in-progress' | 'reconnecting' | 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';

export interface CallSessionOptions {
  /** The microphone's `deviceId`; the browser's default when absent. */
  microphoneId?: string | null | undefined;
  /** A `fetch` for the sandbox's signalling (the client's own is used by default). */
  fetch?: typeof fetch | undefined;
}

/** The call is over; `state` says how. */
export class CallSessionEndedEvent extends Event {
  constructor(
    readonly state: CallSessionState,
    readonly durationSeconds: number | null,
  ) {
    super('ended');
  }
}

/** Makes the media transport for a call (the provider's; tests pass their own). */
export type TransportFactory = (call: StartedCall, handlers: VoiceTransportHandlers) => VoiceTransport;

const ENDED = new Set<string>(ENDED_CALL_STATUSES);
/** How long after the end late reports may still refine the logged duration (Twilio's own figure replacing an estimate). */
const REFINE_MS = 15_000;
/** How long to wait, after the audio drops, for the server to say how the call ended. */
const SETTLE_MS = 4000;

/**
 * A call placed from this browser. The server's view (`call.updated` events)
 * decides the state; the media transport adds `reconnecting` and the input
 * level. Hold and End go through the server, which holds or hangs up the
 * patient's phone leg itself.
 *
 * Events: `change` (any property changed), `level` (`inputLevel` changed),
 * `ended` ({@link CallSessionEndedEvent}).
 */
export class CallSession extends EventTarget {
  /** Where the call stands. */
  state: CallSessionState = 'connecting';
  /** The server's latest view of the call. */
  view: CallView;
  muted = false;
  onHold = false;
  /** When the patient answered, by this browser's clock (ms): where the call timer starts. */
  answeredAt: number | null = null;
  /** When the call ended, by this browser's clock (ms). */
  endedAt: number | null = null;
  /** From answer to hang-up, as the server logged it, once the call is over. */
  durationSeconds: number | null = null;
  /** Microphone input level, 0–1. */
  inputLevel = 0;
  /** Why the call failed on this side (microphone, media connection), when it did. */
  error: unknown = null;

  private media: MediaState = 'connecting';
  private readonly transport: VoiceTransport;
  private unsubscribe: (() => void) | null = null;
  private settleTimer: ReturnType<typeof setTimeout> | null = null;

  private constructor(
    private readonly client: CareClient,
    readonly call: StartedCall,
    options: CallSessionOptions,
    createTransport?: TransportFactory,
  ) {
    super();
    this.view = call.call;
    const handlers: VoiceTransportHandlers = {
      media: (state, error) => this.onMedia(state, error),
      level: (level) => {
        this.inputLevel = level;
        this.dispatchEvent(new Event('level'));
      },
    };
    this.transport = createTransport
      ? createTransport(call, handlers)
      : call.provider === 'twilio'
        ? new TwilioVoiceTransport(call, handlers, options)
        : new SandboxVoiceTransport(call, client.baseUrl, handlers, options);
  }

  /**
   * Places a started call: live status first (so nothing is missed), then the
   * microphone and the media connection. If the microphone or the provider
   * cannot be used, the call is ended on the server and the error thrown.
   */
  static async connect(client: CareClient, call: StartedCall, options: CallSessionOptions = {}, createTransport?: TransportFactory): Promise<CallSession> {
    const session = new CallSession(client, call, options, createTransport);
    session.watch();
    try {
      await session.transport.start();
    } catch (error) {
      session.error = error;
      await client.calls.end(call.id).catch(() => undefined);
      session.finish('failed', false);
      throw error;
    }
    return session;
  }

  /** Whether the call is over. */
  get ended(): boolean {
    return ENDED.has(this.state);
  }

  /** The microphone in use, when the browser says. */
  get microphoneId(): string | null {
    return this.transport.microphoneId;
  }

  /** Mutes or unmutes the microphone (the patient hears silence). */
  setMuted(muted: boolean): void {
    if (this.ended || this.muted === muted) return;
    this.muted = muted;
    this.transport.setMuted(muted);
    this.changed();
  }

  /** Puts the patient on hold (hold music); only while the call is in progress. */
  async hold(): Promise<void> {
    const view = await this.client.calls.hold(this.call.id);
    this.transport.setHeld(true);
    this.apply(view);
  }

  /** Takes the patient off hold. */
  async resume(): Promise<void> {
    const view = await this.client.calls.resume(this.call.id);
    this.transport.setHeld(false);
    this.apply(view);
  }

  /** Hangs up for both sides. Safe to call more than once. */
  async end(): Promise<void> {
    if (this.ended) return;
    try {
      this.apply(await this.client.calls.end(this.call.id));
    } finally {
      // The server has ended it (or cannot be reached): this side hangs up regardless.
      if (!this.ended) this.finish(this.answeredAt ? 'completed' : 'canceled');
    }
  }

  /** Switches microphones mid-call. Throws `MicrophoneError`. */
  async setMicrophone(deviceId: string): Promise<void> {
    await this.transport.setMicrophone(deviceId);
    this.changed();
  }

  private watch(): void {
    this.unsubscribe = this.client.events.subscribe(
      (event) => {
        if (event.type === 'call.updated' && (event.data as CallView).id === this.call.id) this.apply(event.data as CallView);
      },
      {
        // Catch up on whatever happened while the stream was (re)connecting.
        onStateChange: (state) => {
          if (state === 'open') void this.refresh();
        },
        onError: () => undefined,
      },
    );
  }

  private async refresh(): Promise<void> {
    try {
      this.apply(await this.client.calls.get(this.call.id));
    } catch {
      // Live events keep coming; a failed catch-up is not fatal.
    }
  }

  /** The server's view moves the call on; its status only ever goes forward. */
  private apply(view: CallView): void {
    if (this.ended) {
      // Over: only the logged duration may still be refined.
      if (view.durationSeconds !== null && view.durationSeconds !== this.durationSeconds) {
        this.durationSeconds = view.durationSeconds;
        this.changed();
      }
      return;
    }
    this.view = view;
    this.onHold = view.onHold;
    if (ENDED.has(view.status)) {
      this.durationSeconds = view.durationSeconds;
      this.finish(view.status as CallSessionState);
      return;
    }
    if (view.status === 'in-progress' && this.answeredAt === null) this.answeredAt = Date.now();
    this.state = this.stateFor(view.status);
    this.changed();
  }

  private stateFor(status: CallStatus): CallSessionState {
    if (status === 'in-progress') return this.media === 'reconnecting' ? 'reconnecting' : 'in-progress';
    if (status === 'ringing') return 'ringing';
    return 'connecting';
  }

  private onMedia(state: MediaState, error?: unknown): void {
    if (this.ended) return;
    this.media = state;
    if (state === 'disconnected') {
      if (error) this.error = error;
      this.settle(error);
      return;
    }
    const next = this.stateFor(this.view.status);
    if (next !== this.state) {
      this.state = next;
      this.changed();
    }
  }

  /**
   * The audio dropped for good. The server normally reports the outcome at
   * once (the patient hung up, declined…); if it has not after a moment, ask
   * it, and if the call is still open there, end it.
   */
  private settle(error: unknown): void {
    if (this.settleTimer) return;
    this.settleTimer = setTimeout(() => {
      void (async () => {
        if (this.ended) return;
        await this.refresh();
        if (this.ended) return;
        await this.client.calls.end(this.call.id).then((view) => this.apply(view), () => undefined);
        if (!this.ended) this.finish(error || !this.answeredAt ? 'failed' : 'completed');
      })();
    }, SETTLE_MS);
  }

  /** The call is over; `refine` keeps listening a while for a later, more exact duration. */
  private finish(state: CallSessionState, refine = true): void {
    if (this.ended) return;
    this.state = state;
    this.endedAt = Date.now();
    this.onHold = false;
    this.inputLevel = 0;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    if (unsubscribe && refine) {
      // Does not keep a Node process alive (an SDK user's tests) just for this.
      (setTimeout(unsubscribe, REFINE_MS) as { unref?: () => void }).unref?.();
    } else {
      unsubscribe?.();
    }
    this.transport.close();
    this.changed();
    this.dispatchEvent(new CallSessionEndedEvent(state, this.durationSeconds));
  }

  private changed(): void {
    this.dispatchEvent(new Event('change'));
  }
}
