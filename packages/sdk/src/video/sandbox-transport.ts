import { CareApiError } from '../errors.js';
import { createSignalChannel } from '../rtc/signal-channel.js';
import { PeerControlEvent, PeerEndedEvent, SandboxPeer } from '../rtc/sandbox-peer.js';
import type { RemoteMediaState, TransportListener, VideoEndReason, VideoTransport } from './transport.js';

export interface SandboxTransportOptions {
  role: 'practitioner' | 'patient';
  /** The visit's signal endpoint. */
  signalUrl: string;
  /** The seat token (or the practitioner's session token). */
  token: string;
  fetch?: typeof fetch | undefined;
  rtcConfig?: RTCConfiguration | undefined;
}

const END_REASONS: Record<PeerEndedEvent['reason'], VideoEndReason> = {
  bye: 'ended',
  replaced: 'replaced',
  closed: 'left',
  refused: 'refused',
};

/** The sandbox provider: a real WebRTC peer connection signalled through the CareComms server. */
export class SandboxTransport implements VideoTransport {
  private peer: SandboxPeer | null = null;
  private readonly media: RemoteMediaState = { audio: true, video: true };

  constructor(
    private readonly options: SandboxTransportOptions,
    private readonly listener: TransportListener,
  ) {}

  async connect(localStream: MediaStream): Promise<void> {
    const channel = createSignalChannel({
      url: this.options.signalUrl,
      headers: () => ({ authorization: `Bearer ${this.options.token}` }),
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
    });
    const peer = new SandboxPeer({
      role: this.options.role,
      channel,
      video: true,
      localStream,
      ...(this.options.rtcConfig ? { rtcConfig: this.options.rtcConfig } : {}),
    });
    this.peer = peer;
    peer.addEventListener('state', () => {
      if (peer.state !== 'ended') this.listener.state(peer.state);
    });
    peer.addEventListener('remote-stream', () => this.listener.remoteStream(peer.remoteStream));
    peer.addEventListener('control', (event) => {
      const { control, data } = event as PeerControlEvent;
      if (control !== 'mute' || !data || typeof data !== 'object') return;
      const { kind, enabled } = data as { kind?: unknown; enabled?: unknown };
      if ((kind === 'audio' || kind === 'video') && typeof enabled === 'boolean') {
        this.media[kind] = enabled;
        this.listener.remoteMedia({ ...this.media });
      }
    });
    peer.addEventListener('ended', (event) => {
      const { reason, error } = event as PeerEndedEvent;
      // A seat refused because the visit is over (410) is the visit ending, not a bad link.
      const visitOver = error instanceof CareApiError && error.status === 410;
      this.listener.ended(visitOver ? 'ended' : END_REASONS[reason], error);
    });
    // A newly joined peer is told what this side sends: on or off (off too when there is
    // no camera: the other side then shows "camera off" rather than an empty stage), and on
    // as much as off, since a rejoining side may have left with its camera or microphone off.
    // The other side's state is forgotten when it leaves, so a rejoin starts afresh.
    peer.addEventListener('state', () => {
      if (peer.state === 'connected') {
        for (const kind of ['audio', 'video'] as const) {
          const enabled = localStream.getTracks().some((track) => track.kind === kind && track.enabled);
          void peer.sendControl('mute', { kind, enabled }).catch(() => undefined);
        }
      } else if (peer.state === 'waiting' && !(this.media.audio && this.media.video)) {
        this.media.audio = this.media.video = true;
        this.listener.remoteMedia({ ...this.media });
      }
    });
    peer.start();
    // The peer starts out waiting for the other seat and reports only changes from there.
    if (peer.state !== 'ended') this.listener.state(peer.state);
  }

  async replaceTrack(track: MediaStreamTrack): Promise<void> {
    await this.peer?.replaceTrack(track);
  }

  async removeTrack(kind: 'audio' | 'video'): Promise<void> {
    await this.peer?.removeTrack(kind);
  }

  setEnabled(kind: 'audio' | 'video', enabled: boolean): void {
    void this.peer?.sendControl('mute', { kind, enabled }).catch(() => undefined);
  }

  disconnect(): void {
    this.peer?.close();
    this.peer = null;
  }
}
