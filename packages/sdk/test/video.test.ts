import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CareApiError, createCareClient, joinVisit } from '../src/index.ts';
import { getLocalMediaOrVoice, MediaAccessError } from '../src/video/devices.ts';
import { cachedLoader } from '../src/video/twilio-loader.ts';

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const problem = (status: number, code: string, extra: Record<string, unknown> = {}) =>
  new Response(JSON.stringify({ type: 'about:blank', title: 'Error', status, code, detail: code, ...extra }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });

function recorder(...answers: Response[]) {
  const requests: Array<{ url: string; method: string; auth: string | null }> = [];
  const fetch = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    requests.push({ url: String(input), method: init.method ?? 'GET', auth: new Headers(init.headers).get('authorization') });
    return answers.shift()!;
  }) as typeof globalThis.fetch;
  return { fetch, requests };
}

const visit = {
  id: 'v-1',
  correspondenceId: 'c-1',
  token: 't',
  joinUrl: 'https://comms.example.org/join/abc',
  expiresAt: '2030-01-01T00:00:00.000Z',
  provider: 'sandbox',
  roomName: 'visit-1',
};

describe('client.videoVisits', () => {
  it('starts, texts the link and ends a visit at the documented paths', async () => {
    const { fetch, requests } = recorder(json(visit, 201), json({ id: 'sms-1' }, 202), json({ id: 'c-1', status: 'completed', durationSeconds: 42 }));
    const client = createCareClient({ baseUrl: 'https://comms.example.org/', token: 'session', fetch });
    assert.deepEqual(await client.videoVisits.start('p/1'), visit);
    assert.equal((await client.videoVisits.sendLink('v-1')).id, 'sms-1');
    assert.equal((await client.videoVisits.end('v-1')).durationSeconds, 42);
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.url}`),
      [
        'POST https://comms.example.org/api/v1/patients/p%2F1/video-visits',
        'POST https://comms.example.org/api/v1/video-visits/v-1/send-link',
        'POST https://comms.example.org/api/v1/video-visits/v-1/end',
      ],
    );
    assert.ok(requests.every((r) => r.auth === 'Bearer session'));
  });

  it('reports SMS refusals of send-link with their codes', async () => {
    const { fetch } = recorder(problem(409, 'opted_out'));
    const client = createCareClient({ baseUrl: 'https://comms.example.org', token: 'session', fetch });
    await assert.rejects(client.videoVisits.sendLink('v-1'), (error: CareApiError) => error.status === 409 && error.code === 'opted_out');
  });
});

describe('joinVisit', () => {
  it('exchanges a join token for a seat, without a session', async () => {
    const seat = { visitId: 'v-1', token: 'seat', provider: 'sandbox', roomName: 'visit-1', expiresAt: visit.expiresAt, clinicName: 'Demo Clinic', practitionerName: null };
    const { fetch, requests } = recorder(json(seat));
    assert.deepEqual(await joinVisit('https://comms.example.org', 'tok_en-1', { fetch }), seat);
    assert.equal(requests[0]!.url, 'https://comms.example.org/api/v1/join/tok_en-1');
    assert.equal(requests[0]!.method, 'POST');
    assert.equal(requests[0]!.auth, null);
  });

  it('tells a forged link (404), an ended visit (410) and too many attempts (429) apart', async () => {
    const { fetch } = recorder(problem(404, 'not_found'), problem(410, 'visit_ended'), problem(429, 'rate_limited', { retryAfterSeconds: 30 }));
    await assert.rejects(joinVisit('https://x.test', 'a', { fetch }), (e: CareApiError) => e.status === 404);
    await assert.rejects(joinVisit('https://x.test', 'a', { fetch }), (e: CareApiError) => e.code === 'visit_ended');
    await assert.rejects(joinVisit('https://x.test', 'a', { fetch }), (e: CareApiError) => e.status === 429 && (e.problem as { retryAfterSeconds?: number }).retryAfterSeconds === 30);
  });
});

describe('the twilio-video loader', () => {
  it('loads once, on first use, and shares the promise', async () => {
    let calls = 0;
    const load = cachedLoader(async () => ({ n: ++calls }));
    assert.equal(calls, 0, 'nothing loads at creation');
    const [a, b] = await Promise.all([load(), load()]);
    assert.equal(calls, 1);
    assert.equal(a, b);
    assert.equal(await load(), a);
  });

  it('forgets a failure so the next call retries', async () => {
    let calls = 0;
    const load = cachedLoader(async () => {
      calls += 1;
      if (calls === 1) throw new Error('chunk failed to load');
      return 'module';
    });
    await assert.rejects(load(), /chunk failed/);
    assert.equal(await load(), 'module');
    assert.equal(await load(), 'module');
    assert.equal(calls, 2);
  });
});

describe('getLocalMediaOrVoice', () => {
  /** A browser whose getUserMedia answers each request with `answer` (a stream, or a DOMException-like error to throw). */
  async function withMedia<T>(answer: (constraints: MediaStreamConstraints) => unknown, run: (requests: MediaStreamConstraints[]) => Promise<T>): Promise<T> {
    const requests: MediaStreamConstraints[] = [];
    const getUserMedia = async (constraints: MediaStreamConstraints) => {
      requests.push(constraints);
      const result = answer(constraints);
      if (result instanceof Error) throw result;
      return result;
    };
    Object.defineProperty(globalThis, 'isSecureContext', { value: true, configurable: true });
    Object.defineProperty(globalThis, 'navigator', { value: { mediaDevices: { getUserMedia } }, configurable: true });
    try {
      return await run(requests);
    } finally {
      delete (globalThis as { isSecureContext?: boolean }).isSecureContext;
      delete (globalThis as { navigator?: unknown }).navigator;
    }
  }
  const named = (name: string) => Object.assign(new Error(name), { name });
  const both = { kind: 'camera and microphone' };
  const voice = { kind: 'microphone' };

  it('is camera and microphone when both can be had', async () => {
    await withMedia(
      () => both,
      async (requests) => {
        assert.deepEqual(await getLocalMediaOrVoice(), { stream: both, cameraError: null });
        assert.equal(requests.length, 1);
      },
    );
  });

  for (const [name, code] of [
    ['NotFoundError', 'no_device'],
    ['NotReadableError', 'device_busy'],
    ['NotAllowedError', 'permission_denied'],
  ] as const) {
    it(`falls back to the microphone alone when the camera fails (${name}), saying why`, async () => {
      await withMedia(
        (constraints) => (constraints.video ? named(name) : voice),
        async (requests) => {
          const media = await getLocalMediaOrVoice({ cameraId: 'cam-1', microphoneId: 'mic-1' });
          assert.equal(media.stream, voice);
          assert.equal(media.cameraError?.code, code);
          assert.equal(requests.length, 2);
          assert.equal(requests[1]!.video, undefined, 'no camera asked for the second time');
          assert.deepEqual((requests[1]!.audio as MediaTrackConstraints).deviceId, { exact: 'mic-1' }, 'the chosen microphone');
        },
      );
    });
  }

  it('throws the microphone\'s error when neither can be had', async () => {
    await withMedia(
      (constraints) => (constraints.video ? named('NotFoundError') : named('NotAllowedError')),
      async () => {
        await assert.rejects(getLocalMediaOrVoice(), (e: MediaAccessError) => e instanceof MediaAccessError && e.code === 'permission_denied');
      },
    );
  });
});

describe('TwilioTransport (against a stand-in for twilio-video)', () => {
  /** Just enough of twilio-video's rooms, participants and tracks, and of the browser's MediaStream. */
  class Emitter {
    private readonly handlers = new Map<string, Array<(...args: unknown[]) => void>>();
    on(event: string, handler: (...args: unknown[]) => void) {
      this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
      return this;
    }
    emit(event: string, ...args: unknown[]) {
      for (const handler of this.handlers.get(event) ?? []) handler(...args);
    }
  }
  class FakeStream {
    readonly tracks: Array<{ kind: string }> = [];
    constructor(tracks: Array<{ kind: string }> = []) {
      this.tracks.push(...tracks);
    }
    getTracks() {
      return [...this.tracks];
    }
    addTrack(track: { kind: string }) {
      this.tracks.push(track);
    }
    removeTrack(track: { kind: string }) {
      this.tracks.splice(this.tracks.indexOf(track), 1);
    }
  }
  const participant = (kinds: string[]) => {
    const p = Object.assign(new Emitter(), { tracks: new Map<string, unknown>(), videoTracks: new Map<string, unknown>() });
    for (const kind of kinds) {
      const track = Object.assign(new Emitter(), { kind, isEnabled: true, mediaStreamTrack: { kind } });
      p.tracks.set(kind, { kind, track });
      if (kind === 'video') p.videoTracks.set(kind, { kind, track });
    }
    return p;
  };

  async function connectWith(remote: ReturnType<typeof participant>) {
    const previous = (globalThis as { MediaStream?: unknown }).MediaStream;
    (globalThis as { MediaStream?: unknown }).MediaStream = FakeStream;
    const room = Object.assign(new Emitter(), { participants: new Map([['p', remote]]), disconnect() {} });
    const Video = { connect: async () => room, LocalAudioTrack: class {}, LocalVideoTrack: class {} };
    const media: Array<{ audio: boolean; video: boolean }> = [];
    const states: string[] = [];
    const { TwilioTransport } = await import('../src/video/twilio-transport.ts');
    const transport = new TwilioTransport(
      { token: 't', roomName: 'r', load: async () => Video as never },
      { state: (s) => states.push(s), remoteStream: () => undefined, remoteMedia: (m) => media.push(m), ended: () => undefined },
    );
    try {
      await transport.connect(new FakeStream([{ kind: 'audio' }, { kind: 'video' }]) as unknown as MediaStream);
    } finally {
      (globalThis as { MediaStream?: unknown }).MediaStream = previous;
    }
    return { media, states };
  }

  it('reports the camera off for someone who joined by voice only, and on for someone with a camera', async () => {
    const voiceOnly = await connectWith(participant(['audio']));
    assert.deepEqual(voiceOnly.states.at(-1), 'connected');
    assert.equal(voiceOnly.media.at(-1)!.video, false, 'no video published: camera off');
    const withCamera = await connectWith(participant(['audio', 'video']));
    assert.equal(withCamera.media.at(-1)!.video, true);
  });

  it('reports the camera off when the other side stops publishing video', async () => {
    const remote = participant(['audio', 'video']);
    const { media } = await connectWith(remote);
    assert.equal(media.at(-1)!.video, true);
    remote.emit('trackUnpublished', { kind: 'video' });
    assert.equal(media.at(-1)!.video, false);
  });
});
