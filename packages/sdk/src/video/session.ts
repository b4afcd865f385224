import type { CareApiError } from '../errors.js';
import { signalUrl } from '../video-visits.js';
import { getDeviceTrack, MediaAccessError } from './devices.js';
import { SandboxTransport } from './sandbox-transport.js';
import { loadTwilioVideo, type TwilioVideo } from './twilio-loader.js';
import { TwilioTransport } from './twilio-transport.js';
import type { RemoteMediaState, TransportListener, VideoEndReason, VideoSessionState, VideoTransport } from './transport.js';

/** What this side sends: the caller's camera and microphone. */
export interface VideoSessionMedia {
  /** Camera and microphone to send. The session owns it from now on and stops it when it ends. */
  localStream: MediaStream;
  rtcConfig?: RTCConfiguration | undefined;
  /** Replaces the lazy `twilio-video` loader (tests). */
  loadTwilioVideo?: (() => Promise<TwilioVideo>) | undefined;
}

export interface VideoSessionOptions extends VideoSessionMedia {
  /** From the visit (`VideoVisit.provider` / `PatientSeat.provider`). */
  provider: 'twilio' | 'sandbox';
  role: 'practitioner' | 'patient';
  /** The CareComms server (for the sandbox's signal endpoint). */
  baseUrl: string;
  visitId: string;
  /** `VideoVisit.token` for the practitioner, `PatientSeat.token` for the patient. */
  token: string;
  roomName: string;
  /** A `fetch` for the sandbox's signalling (the client's, when it was given one). */
  fetch?: typeof fetch | undefined;
}

/** The session ended; `reason` says why (see {@link VideoEndReason}). */
export class VideoSessionEndedEvent extends Event {
  constructor(
    readonly reason: VideoEndReason,
    readonly error?: CareApiError | Error,
  ) {
    super('ended');
  }
}

/**
 * One side of a video visit in the browser, the same on both providers:
 * Twilio Video (`twilio-video`, loaded on first use) or the sandbox's WebRTC.
 * Mute, camera off, switching camera or microphone mid-visit and screen
 * sharing (which takes the camera's place until it stops).
 *
 * Events: `state` (see `state`), `remote-stream`, `remote-media` (the other
 * side muted or turned off their camera), `local-stream` (the preview's tracks
 * changed), `ended` ({@link VideoSessionEndedEvent}).
 */
export class VideoSession extends EventTarget {
  state: VideoSessionState = 'connecting';
  readonly localStream: MediaStream;
  remoteStream: MediaStream | null = null;
  remoteMedia: RemoteMediaState = { audio: true, video: true };
  microphoneEnabled = true;
  /**
   * Whether this side joined with a camera. Without one (a visit by voice, see
   * `getLocalMediaOrVoice`) it stays so for the visit: a camera is not picked
   * up mid-visit. The practitioner's side can still share a screen (the
   * sandbox negotiates a video channel for it either way).
   */
  readonly hasCamera: boolean;
  cameraEnabled: boolean;
  screenSharing = false;
  /** When both sides were first connected (ms since the epoch), for a visit timer. */
  connectedAt: number | null = null;
  endReason: VideoEndReason | null = null;

  private readonly transport: VideoTransport;
  /** The camera, kept while a screen share takes its place. */
  private cameraTrack: MediaStreamTrack | null = null;

  constructor(private readonly options: VideoSessionOptions) {
    super();
    this.localStream = options.localStream;
    this.hasCamera = this.cameraEnabled = options.localStream.getVideoTracks().length > 0;
    const listener: TransportListener = {
      state: (state) => this.setState(state),
      remoteStream: (stream) => {
        this.remoteStream = stream;
        this.dispatchEvent(new Event('remote-stream'));
      },
      remoteMedia: (media) => {
        this.remoteMedia = media;
        this.dispatchEvent(new Event('remote-media'));
      },
      ended: (reason, error) => this.finish(reason, error),
    };
    this.transport =
      options.provider === 'twilio'
        ? new TwilioTransport({ token: options.token, roomName: options.roomName, load: options.loadTwilioVideo ?? loadTwilioVideo }, listener)
        : new SandboxTransport(
            {
              role: options.role,
              signalUrl: signalUrl(options.baseUrl, options.visitId),
              token: options.token,
              fetch: options.fetch,
              rtcConfig: options.rtcConfig,
            },
            listener,
          );
  }

  /** Joins the room. Resolves once connecting has started (or failed, reported through `ended`). */
  async connect(): Promise<void> {
    try {
      await this.transport.connect(this.localStream);
    } catch (error) {
      this.finish('failed', error as Error);
    }
  }

  setMicrophoneEnabled(enabled: boolean): void {
    this.microphoneEnabled = enabled;
    for (const track of this.localStream.getAudioTracks()) track.enabled = enabled;
    this.transport.setEnabled('audio', enabled);
  }

  setCameraEnabled(enabled: boolean): void {
    // No camera to turn on: telling the other side it is on would take their "camera off" away for nothing.
    if (!this.hasCamera) return;
    this.cameraEnabled = enabled;
    // While a screen is shared, the share goes on: the camera comes back on or off, as set, when it ends.
    if (this.screenSharing) {
      if (this.cameraTrack) this.cameraTrack.enabled = enabled;
      return;
    }
    for (const track of this.localStream.getVideoTracks()) track.enabled = enabled;
    this.transport.setEnabled('video', enabled);
  }

  /** Switches to another camera without leaving the visit. Throws {@link MediaAccessError}. */
  async useCamera(deviceId: string): Promise<void> {
    if (!this.hasCamera) throw new MediaAccessError('no_device', 'This visit was joined without a camera; join again to use one');
    const track = await getDeviceTrack('video', deviceId);
    if (this.state === 'ended') {
      track.stop();
      return;
    }
    if (this.screenSharing) {
      this.cameraTrack?.stop();
      this.cameraTrack = track;
      return;
    }
    await this.sendTrack(track, this.cameraEnabled);
  }

  /** Switches to another microphone without leaving the visit. Throws {@link MediaAccessError}. */
  async useMicrophone(deviceId: string): Promise<void> {
    const track = await getDeviceTrack('audio', deviceId);
    if (this.state === 'ended') {
      track.stop();
      return;
    }
    await this.sendTrack(track, this.microphoneEnabled);
  }

  /** Sends the screen (a window or tab the user picks) instead of the camera. Throws {@link MediaAccessError}. */
  async startScreenShare(): Promise<void> {
    if (this.screenSharing || this.state === 'ended') return;
    if (!navigator.mediaDevices?.getDisplayMedia) throw new MediaAccessError('unsupported', 'This browser cannot share the screen');
    let screen: MediaStreamTrack;
    try {
      screen = (await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false })).getVideoTracks()[0]!;
    } catch (error) {
      throw MediaAccessError.from(error);
    }
    // The browser's own "Stop sharing" button ends the track.
    screen.addEventListener('ended', () => void this.stopScreenShare());
    this.cameraTrack = this.localStream.getVideoTracks()[0] ?? null;
    this.screenSharing = true;
    await this.sendTrack(screen, true, false);
    this.transport.setEnabled('video', true);
  }

  /** Back to the camera after a screen share. */
  async stopScreenShare(): Promise<void> {
    if (!this.screenSharing) return;
    this.screenSharing = false;
    const camera = this.cameraTrack;
    this.cameraTrack = null;
    if (this.state === 'ended') {
      camera?.stop();
      return;
    }
    if (camera) await this.sendTrack(camera, this.cameraEnabled);
    else await this.dropVideo();
    this.transport.setEnabled('video', this.cameraEnabled);
  }

  /** No camera to go back to after a screen share (a visit joined by voice): sends no picture at all. */
  private async dropVideo(): Promise<void> {
    const screens = this.localStream.getVideoTracks();
    for (const track of screens) this.localStream.removeTrack(track);
    this.dispatchEvent(new Event('local-stream'));
    await this.transport.removeTrack('video');
    for (const track of screens) track.stop();
  }

  /** Leaves the visit (the other side sees this seat empty) and releases camera and microphone. */
  leave(): void {
    if (this.state === 'ended') return;
    this.transport.disconnect();
    this.finish('left');
  }

  /** Puts `track` in the local stream and on the wire in place of the current one of its kind. */
  private async sendTrack(track: MediaStreamTrack, enabled: boolean, stopPrevious = true): Promise<void> {
    track.enabled = enabled;
    const previous = this.localStream.getTracks().find((t) => t.kind === track.kind);
    if (previous) this.localStream.removeTrack(previous);
    this.localStream.addTrack(track);
    this.dispatchEvent(new Event('local-stream'));
    await this.transport.replaceTrack(track);
    if (previous && stopPrevious && previous !== track) previous.stop();
  }

  private setState(state: VideoSessionState): void {
    if (this.state === 'ended' || this.state === state) return;
    this.state = state;
    if (state === 'connected') this.connectedAt ??= Date.now();
    this.dispatchEvent(new Event('state'));
  }

  private finish(reason: VideoEndReason, error?: CareApiError | Error): void {
    if (this.state === 'ended') return;
    this.endReason = reason;
    this.transport.disconnect();
    for (const track of this.localStream.getTracks()) track.stop();
    this.cameraTrack?.stop();
    this.cameraTrack = null;
    this.state = 'ended';
    this.dispatchEvent(new Event('state'));
    this.dispatchEvent(new VideoSessionEndedEvent(reason, error));
  }
}
