import { expect, waitUntil } from '@open-wc/testing';
import { getLocalMedia, listMediaDevices, MediaAccessError, VideoSession, type TwilioVideo, type VideoSessionEndedEvent } from '@carecomms/sdk/video';
import { formatDuration } from '../format.js';

/** Just enough of an event emitter for the fakes below. */
class Emitter {
  private handlers = new Map<string, Array<(...args: unknown[]) => void>>();
  on(name: string, handler: (...args: unknown[]) => void): this {
    this.handlers.set(name, [...(this.handlers.get(name) ?? []), handler]);
    return this;
  }
  emit(name: string, ...args: unknown[]): void {
    for (const handler of this.handlers.get(name) ?? []) handler(...args);
  }
}

class FakeLocalTrack {
  enabled = true;
  constructor(readonly mediaStreamTrack: MediaStreamTrack) {}
  enable() {
    this.enabled = true;
  }
  disable() {
    this.enabled = false;
  }
}

class FakeRemoteTrack extends Emitter {
  isEnabled = true;
  constructor(
    readonly kind: 'audio' | 'video',
    readonly mediaStreamTrack: MediaStreamTrack,
  ) {
    super();
  }
}

class FakeParticipant extends Emitter {
  tracks = new Map<string, { track: FakeRemoteTrack | null }>();
  /** Twilio's publications of video: who has a camera publishes one. */
  videoTracks = new Map<string, unknown>([['video', {}]]);
}

class FakeRoom extends Emitter {
  participants = new Map<string, FakeParticipant>();
  published: FakeLocalTrack[] = [];
  unpublished: FakeLocalTrack[] = [];
  localParticipant = {
    publishTrack: async (track: FakeLocalTrack) => void this.published.push(track),
    unpublishTrack: (track: FakeLocalTrack) => void this.unpublished.push(track),
  };
  disconnected = false;
  disconnect() {
    this.disconnected = true;
    this.emit('disconnected', this);
  }
}

/** A stand-in for the `twilio-video` module, recording what the session asks of it. */
function fakeTwilioVideo(connect: (token: string, options: Record<string, unknown>) => Promise<FakeRoom>) {
  const calls: Array<{ token: string; options: Record<string, unknown> }> = [];
  const module = {
    LocalAudioTrack: FakeLocalTrack,
    LocalVideoTrack: FakeLocalTrack,
    connect: (token: string, options: Record<string, unknown>) => {
      calls.push({ token, options });
      return connect(token, options);
    },
  };
  return { calls, load: async () => module as unknown as TwilioVideo };
}

function canvasTrack(): MediaStreamTrack {
  const canvas = document.createElement('canvas');
  canvas.width = 64;
  canvas.height = 48;
  canvas.getContext('2d')!.fillRect(0, 0, 64, 48);
  return canvas.captureStream(5).getVideoTracks()[0]!;
}

async function twilioSession(load: () => Promise<TwilioVideo>, localStream?: MediaStream) {
  const session = new VideoSession({
    provider: 'twilio',
    role: 'practitioner',
    baseUrl: 'https://carecomms.test',
    visitId: 'visit-1',
    token: 'twilio-access-token',
    roomName: 'visit-0123',
    localStream: localStream ?? (await getLocalMedia()),
    loadTwilioVideo: load,
  });
  const ended = new Promise<VideoSessionEndedEvent>((resolve) => session.addEventListener('ended', (e) => resolve(e as VideoSessionEndedEvent)));
  return { session, ended };
}

describe('VideoSession on Twilio (a fake twilio-video)', function () {
  this.timeout(90_000);

  it('joins the room with its token and own tracks, shows the other side, mutes, switches camera, and hears "replaced"', async () => {
    const room = new FakeRoom();
    const twilio = fakeTwilioVideo(async () => room);
    const { session, ended } = await twilioSession(twilio.load);
    await session.connect();
    expect(twilio.calls).to.have.length(1);
    expect(twilio.calls[0]!.token).to.equal('twilio-access-token');
    expect(twilio.calls[0]!.options.name).to.equal('visit-0123');
    expect(twilio.calls[0]!.options.insights).to.equal(false);
    const tracks = twilio.calls[0]!.options.tracks as FakeLocalTrack[];
    expect(tracks.map((t) => t.mediaStreamTrack.kind).sort()).to.deep.equal(['audio', 'video']);
    expect(session.state).to.equal('waiting');

    // The patient joins with a camera.
    const patient = new FakeParticipant();
    const video = new FakeRemoteTrack('video', canvasTrack());
    patient.tracks.set('MT1', { track: video });
    room.participants.set('PA1', patient);
    room.emit('participantConnected', patient);
    expect(session.state).to.equal('connected');
    expect(session.remoteStream!.getVideoTracks()[0]).to.equal(video.mediaStreamTrack);
    expect(session.connectedAt).to.be.a('number');
    video.isEnabled = false;
    video.emit('disabled');
    expect(session.remoteMedia.video).to.be.false;

    session.setMicrophoneEnabled(false);
    const audio = tracks.find((t) => t.mediaStreamTrack.kind === 'audio')!;
    expect(audio.enabled).to.be.false;
    expect(session.localStream.getAudioTracks()[0]!.enabled).to.be.false;

    const { cameras } = await listMediaDevices();
    await session.useCamera(cameras[0]!.deviceId);
    expect(room.unpublished).to.have.length(1);
    expect(room.published).to.have.length(1);
    expect(room.published[0]!.mediaStreamTrack).to.equal(session.localStream.getVideoTracks()[0]);

    room.emit('reconnecting');
    expect(session.state).to.equal('reconnecting');
    room.emit('reconnected');
    expect(session.state).to.equal('connected');

    // The same identity connected from another device: Twilio disconnects this one.
    room.emit('disconnected', room, Object.assign(new Error('duplicate identity'), { code: 53205 }));
    expect((await ended).reason).to.equal('replaced');
    expect(session.localStream.getTracks().every((t) => t.readyState === 'ended'), 'camera released').to.be.true;
  });

  it('the room ending is the visit ending; leaving is leaving', async () => {
    const room = new FakeRoom();
    const { session, ended } = await twilioSession(fakeTwilioVideo(async () => room).load);
    await session.connect();
    room.emit('disconnected', room, Object.assign(new Error('room completed'), { code: 53118 }));
    expect((await ended).reason).to.equal('ended');

    const room2 = new FakeRoom();
    const second = await twilioSession(fakeTwilioVideo(async () => room2).load);
    await second.session.connect();
    second.session.leave();
    expect((await second.ended).reason).to.equal('left');
    expect(room2.disconnected).to.be.true;
  });

  it('joined by voice only (no camera), says so, and keeps the camera off: none to turn on or switch to', async () => {
    const room = new FakeRoom();
    const twilio = fakeTwilioVideo(async () => room);
    const voice = await navigator.mediaDevices.getUserMedia({ audio: true });
    const { session } = await twilioSession(twilio.load, voice);
    expect(session.hasCamera).to.equal(false);
    expect(session.cameraEnabled, 'shown as off').to.equal(false);
    await session.connect();
    expect((twilio.calls[0]!.options.tracks as FakeLocalTrack[]).map((t) => t.mediaStreamTrack.kind)).to.deep.equal(['audio']);
    session.setCameraEnabled(true);
    expect(session.cameraEnabled, 'nothing to turn on').to.equal(false);
    const { cameras } = await listMediaDevices();
    let refused: unknown = null;
    await session.useCamera(cameras[0]!.deviceId).catch((error: unknown) => (refused = error));
    expect(refused).to.be.instanceOf(MediaAccessError);
    expect(session.localStream.getVideoTracks()).to.have.length(0);
    expect(room.published).to.have.length(0);
    session.leave();

    const withCamera = await twilioSession(fakeTwilioVideo(async () => new FakeRoom()).load);
    expect(withCamera.session.hasCamera).to.equal(true);
    expect(withCamera.session.cameraEnabled).to.equal(true);
    withCamera.session.leave();
  });

  it('joined by voice, shares the screen (published, then unpublished with nothing in its place)', async () => {
    const room = new FakeRoom();
    const twilio = fakeTwilioVideo(async () => room);
    const { session } = await twilioSession(twilio.load, await navigator.mediaDevices.getUserMedia({ audio: true }));
    await session.connect();
    const media = navigator.mediaDevices;
    const getDisplayMedia = media.getDisplayMedia;
    const screen = canvasTrack();
    media.getDisplayMedia = () => Promise.resolve(new MediaStream([screen]));
    try {
      await session.startScreenShare();
    } finally {
      media.getDisplayMedia = getDisplayMedia;
    }
    expect(room.published.map((t) => t.mediaStreamTrack)).to.deep.equal([screen]);
    expect(room.published[0]!.enabled, 'sent enabled').to.be.true;
    expect(session.localStream.getVideoTracks()).to.deep.equal([screen]);
    await session.stopScreenShare();
    expect(room.unpublished, 'the screen unpublished').to.deep.equal([room.published[0]]);
    expect(room.published, 'nothing published in its place').to.have.length(1);
    expect(session.localStream.getVideoTracks()).to.have.length(0);
    expect(screen.readyState, 'no longer captured').to.equal('ended');
    expect(session.cameraEnabled).to.be.false;
    session.leave();
  });

  it('a refused token is "refused"; twilio-video failing to load is "failed"', async () => {
    const refused = await twilioSession(fakeTwilioVideo(() => Promise.reject(Object.assign(new Error('expired'), { code: 20104 }))).load);
    await refused.session.connect();
    expect((await refused.ended).reason).to.equal('refused');

    const broken = await twilioSession(() => Promise.reject(new TypeError('Failed to fetch dynamically imported module')));
    await broken.session.connect();
    const event = await broken.ended;
    expect(event.reason).to.equal('failed');
    await waitUntil(() => broken.session.state === 'ended');
  });
});

describe('formatDuration', () => {
  it('is m:ss, then h:mm:ss from an hour on (the video timer, the call timer and the history list share it)', () => {
    expect(formatDuration(0)).to.equal('0:00');
    expect(formatDuration(61)).to.equal('1:01');
    expect(formatDuration(3599)).to.equal('59:59');
    expect(formatDuration(3725)).to.equal('1:02:05');
    expect(formatDuration(-3)).to.equal('0:00');
  });
});
