import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { CallView, StartedCall } from '@carecomms/core';
import type { CareClient } from '../src/index.ts';
import { MicrophoneError } from '../src/voice/devices.ts';
import { CallSession, type CallSessionEndedEvent } from '../src/voice/session.ts';
import type { VoiceTransport, VoiceTransportHandlers } from '../src/voice/transport.ts';
import { TwilioVoiceTransport } from '../src/voice/twilio-transport.ts';
import type { TwilioVoice } from '../src/voice/twilio-loader.ts';

const view = (changes: Partial<CallView> = {}): CallView => ({
  id: 'call-1',
  correspondenceId: 'entry-1',
  patientId: 'pat-1',
  provider: 'sandbox',
  status: 'initiated',
  onHold: false,
  recording: false,
  answeredAt: null,
  endedAt: null,
  durationSeconds: null,
  errorCode: null,
  ...changes,
});

const started = (provider: 'sandbox' | 'twilio' = 'sandbox'): StartedCall => ({
  id: 'call-1',
  correspondenceId: 'entry-1',
  token: 'voice-token',
  identity: 'clinician-1',
  provider,
  expiresAt: '2030-01-01T00:00:00.000Z',
  call: view({ provider }),
  entry: {} as StartedCall['entry'],
});

/** A client whose call REST answers from one server-side view, and whose event stream the test feeds. */
function fakeClient() {
  let server = view();
  const requests: string[] = [];
  let push: ((view: CallView) => void) | null = null;
  let unsubscribed = false;
  const client = {
    baseUrl: 'https://comms.test',
    calls: {
      get: async () => (requests.push('get'), server),
      hold: async () => (requests.push('hold'), (server = { ...server, onHold: true })),
      resume: async () => (requests.push('resume'), (server = { ...server, onHold: false })),
      end: async () => {
        requests.push('end');
        if (!['completed', 'busy', 'no-answer', 'failed', 'canceled'].includes(server.status)) {
          server = { ...server, status: server.status === 'in-progress' ? 'completed' : 'canceled', onHold: false, durationSeconds: server.status === 'in-progress' ? 7 : null };
        }
        return server;
      },
    },
    events: {
      subscribe: (handler: (event: { id: string; type: string; data: unknown }) => void, options: { onStateChange?: (state: string) => void }) => {
        push = (data) => handler({ id: String(Math.random()), type: 'call.updated', data });
        queueMicrotask(() => options.onStateChange?.('open'));
        return () => (unsubscribed = true);
      },
    },
  } as unknown as CareClient;
  return {
    client,
    requests,
    /** The server moves the call on and says so over the event stream. */
    update(changes: Partial<CallView>) {
      server = { ...server, ...changes };
      push?.(server);
    },
    get unsubscribed() {
      return unsubscribed;
    },
  };
}

function fakeTransport(options: { fail?: unknown } = {}) {
  const calls: string[] = [];
  let handlers!: VoiceTransportHandlers;
  const factory = (_call: StartedCall, h: VoiceTransportHandlers): VoiceTransport => {
    handlers = h;
    return {
      microphoneId: 'mic-a',
      start: async () => {
        calls.push('start');
        if (options.fail) throw options.fail;
      },
      setMuted: (muted) => void calls.push(`muted:${muted}`),
      setHeld: (held) => void calls.push(`held:${held}`),
      setMicrophone: async (id) => void calls.push(`mic:${id}`),
      close: () => void calls.push('close'),
    };
  };
  return { factory, calls, handlers: () => handlers };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('CallSession', () => {
  it('follows the server: connecting, ringing, in progress (the timer starts), reconnecting while the audio recovers', async () => {
    const server = fakeClient();
    const media = fakeTransport();
    const session = await CallSession.connect(server.client, started(), {}, media.factory);
    assert.equal(session.state, 'connecting');
    assert.deepEqual(media.calls, ['start']);
    await tick();
    assert.ok(server.requests.includes('get'), 'catches up once the event stream is open');

    server.update({ status: 'ringing' });
    assert.equal(session.state, 'ringing');
    assert.equal(session.answeredAt, null);
    const before = Date.now();
    server.update({ status: 'in-progress', answeredAt: '2020-01-01T00:00:00.000Z' });
    assert.equal(session.state, 'in-progress');
    assert.ok(session.answeredAt! >= before, 'timed by this browser’s clock, not the server’s');

    media.handlers().media('reconnecting');
    assert.equal(session.state, 'reconnecting');
    media.handlers().media('connected');
    assert.equal(session.state, 'in-progress');

    media.handlers().level(0.4);
    assert.equal(session.inputLevel, 0.4);
  });

  it('mute stays in the browser; hold and resume go through the server, then pause the browser’s audio', async () => {
    const server = fakeClient();
    const media = fakeTransport();
    const session = await CallSession.connect(server.client, started(), {}, media.factory);
    server.update({ status: 'in-progress' });
    session.setMuted(true);
    assert.equal(session.muted, true);
    await session.hold();
    assert.equal(session.onHold, true);
    await session.resume();
    assert.equal(session.onHold, false);
    assert.deepEqual(media.calls.slice(1), ['muted:true', 'held:true', 'held:false']);
    assert.deepEqual(server.requests.filter((r) => r !== 'get'), ['hold', 'resume']);
    await session.setMicrophone('mic-b');
    assert.ok(media.calls.includes('mic:mic-b'));
  });

  it('ends once, with the logged duration, and takes a later refinement of it', async () => {
    const server = fakeClient();
    const media = fakeTransport();
    const session = await CallSession.connect(server.client, started(), {}, media.factory);
    server.update({ status: 'in-progress' });
    const ended = new Promise<CallSessionEndedEvent>((resolve) => session.addEventListener('ended', (e) => resolve(e as CallSessionEndedEvent), { once: true }));
    await session.end();
    const event = await ended;
    assert.equal(event.state, 'completed');
    assert.equal(event.durationSeconds, 7);
    assert.equal(session.ended, true);
    assert.ok(media.calls.includes('close'));
    await session.end();
    assert.deepEqual(server.requests.filter((r) => r === 'end'), ['end'], 'ending twice asks once');
    // Twilio's own figure for the patient's leg arrives after the estimate.
    server.update({ durationSeconds: 6 });
    assert.equal(session.durationSeconds, 6);
    assert.equal(session.state, 'completed', 'nothing else moves after the end');
  });

  it('reports how the other side ended it: busy, no answer', async () => {
    for (const status of ['busy', 'no-answer'] as const) {
      const server = fakeClient();
      const session = await CallSession.connect(server.client, started(), {}, fakeTransport().factory);
      server.update({ status: 'ringing' });
      server.update({ status });
      assert.equal(session.state, status);
      assert.equal(session.durationSeconds, null);
    }
  });

  it('a microphone that cannot be used ends the call on the server and is thrown', async () => {
    const server = fakeClient();
    const refused = new MicrophoneError('permission_denied', 'Microphone access was refused');
    await assert.rejects(CallSession.connect(server.client, started(), {}, fakeTransport({ fail: refused }).factory), (error) => error === refused);
    assert.ok(server.requests.includes('end'));
    assert.equal(server.unsubscribed, true);
  });
});

describe('TwilioVoiceTransport (against a stand-in for @twilio/voice-sdk)', () => {
  class FakeCall extends EventEmitter {
    muted: boolean | null = null;
    disconnected = false;
    mute(value: boolean) {
      this.muted = value;
    }
    disconnect() {
      this.disconnected = true;
    }
  }
  function fakeVoiceSdk(options: { connectError?: unknown } = {}) {
    const made: Array<{ token: string; options: Record<string, unknown>; connects: unknown[]; inputs: string[]; destroyed: boolean }> = [];
    const call = new FakeCall();
    class Device {
      record = { token: '', options: {} as Record<string, unknown>, connects: [] as unknown[], inputs: [] as string[], destroyed: false };
      audio = {
        inputDevice: null as { deviceId: string } | null,
        setInputDevice: async (id: string) => {
          this.record.inputs.push(id);
          this.audio.inputDevice = { deviceId: id };
        },
      };
      constructor(token: string, deviceOptions: Record<string, unknown>) {
        this.record.token = token;
        this.record.options = deviceOptions;
        made.push(this.record);
      }
      async connect(connectOptions: unknown) {
        this.record.connects.push(connectOptions);
        if (options.connectError) throw options.connectError;
        return call;
      }
      destroy() {
        this.record.destroyed = true;
      }
    }
    const sdk = { Device, Call: { Codec: { Opus: 'opus', PCMU: 'pcmu' } } } as unknown as TwilioVoice;
    return { sdk, made, call };
  }

  it('places the call with the token and call id, maps its events, mutes, switches microphones and hangs up', async () => {
    const { sdk, made, call } = fakeVoiceSdk();
    const states: string[] = [];
    const levels: number[] = [];
    const transport = new TwilioVoiceTransport(started('twilio'), { media: (s) => states.push(s), level: (l) => levels.push(l) }, { microphoneId: 'mic-a' }, async () => sdk);
    await transport.start();
    const device = made[0]!;
    assert.equal(device.token, 'voice-token');
    assert.deepEqual(device.options.codecPreferences, ['opus', 'pcmu']);
    assert.deepEqual(device.inputs, ['mic-a'], 'the chosen microphone from the start');
    assert.deepEqual(device.connects, [{ params: { callId: 'call-1' } }]);
    assert.equal(transport.microphoneId, 'mic-a');

    call.emit('accept');
    call.emit('volume', 0.5, 0.1);
    call.emit('reconnecting', new Error('ice'));
    call.emit('reconnected');
    assert.deepEqual(states, ['connecting', 'connected', 'reconnecting', 'connected']);
    assert.deepEqual(levels, [0.75]);

    transport.setMuted(true);
    assert.equal(call.muted, true);
    transport.setHeld();
    await transport.setMicrophone('mic-b');
    assert.deepEqual(device.inputs, ['mic-a', 'mic-b']);

    call.emit('disconnect');
    assert.equal(states.at(-1), 'disconnected');
    transport.close();
    assert.equal(call.disconnected, true);
    assert.equal(device.destroyed, true);
  });

  it('Twilio’s "microphone denied" errors become a MicrophoneError', async () => {
    const { sdk } = fakeVoiceSdk({ connectError: Object.assign(new Error('Permission denied'), { code: 31208 }) });
    const transport = new TwilioVoiceTransport(started('twilio'), { media: () => undefined, level: () => undefined }, {}, async () => sdk);
    await assert.rejects(transport.start(), (error) => error instanceof MicrophoneError && error.code === 'permission_denied');
  });
});
