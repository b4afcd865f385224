import type { StartedCall } from '@carecomms/core';
import { createSignalChannel } from '../rtc/signal-channel.js';
import { SandboxPeer, type PeerEndedEvent, type PeerState } from '../rtc/sandbox-peer.js';
import { getMicrophone, watchLevel } from './devices.js';
import type { MediaState, VoiceTransport, VoiceTransportHandlers } from './transport.js';

const MEDIA_STATE: Record<PeerState, MediaState> = {
  waiting: 'connecting',
  connecting: 'connecting',
  connected: 'connected',
  reconnecting: 'reconnecting',
  ended: 'disconnected',
};

/**
 * The sandbox's call audio: a real WebRTC connection to the patient phone
 * simulator, signalled through the server. Holding the call's signal seat is
 * the browser's leg: opening it rings the phone.
 */
export class SandboxVoiceTransport implements VoiceTransport {
  private stream: MediaStream | null = null;
  private peer: SandboxPeer | null = null;
  private readonly audio = new Audio();
  private stopLevel: () => void = () => undefined;
  private muted = false;
  private held = false;

  constructor(
    private readonly call: StartedCall,
    private readonly baseUrl: string,
    private readonly handlers: VoiceTransportHandlers,
    private readonly options: { microphoneId?: string | null | undefined; fetch?: typeof fetch | undefined },
  ) {
    this.audio.autoplay = true;
  }

  get microphoneId(): string | null {
    return this.stream?.getAudioTracks()[0]?.getSettings().deviceId ?? null;
  }

  async start(): Promise<void> {
    this.stream = await getMicrophone(this.options.microphoneId);
    this.stopLevel = watchLevel(this.stream, this.handlers.level);
    const channel = createSignalChannel({
      url: `${this.baseUrl}/api/v1/calls/${encodeURIComponent(this.call.id)}/signal`,
      headers: () => ({ authorization: `Bearer ${this.call.token}` }),
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
    });
    const peer = (this.peer = new SandboxPeer({ role: 'practitioner', channel, localStream: this.stream }));
    peer.addEventListener('state', () => this.handlers.media(MEDIA_STATE[peer.state]));
    peer.addEventListener('remote-stream', () => {
      this.audio.srcObject = peer.remoteStream;
      if (peer.remoteStream) void this.audio.play().catch(() => undefined);
    });
    peer.addEventListener('ended', (event) => this.handlers.media('disconnected', (event as PeerEndedEvent).error));
    peer.start();
    this.handlers.media('connecting');
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    this.applySending();
    void this.peer?.sendControl('mute', { muted }).catch(() => undefined);
  }

  setHeld(held: boolean): void {
    this.held = held;
    this.applySending();
    this.audio.muted = held;
  }

  async setMicrophone(deviceId: string): Promise<void> {
    const next = await getMicrophone(deviceId);
    const track = next.getAudioTracks()[0]!;
    const old = this.stream?.getAudioTracks()[0];
    await this.peer?.replaceTrack(track);
    if (this.stream && !this.peer) {
      if (old) this.stream.removeTrack(old);
      this.stream.addTrack(track);
    }
    old?.stop();
    this.stopLevel();
    this.stopLevel = watchLevel(this.stream!, this.handlers.level);
    this.applySending();
  }

  close(): void {
    this.peer?.close();
    this.peer = null;
    this.stopLevel();
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.audio.srcObject = null;
  }

  /** Audio goes out only when neither muted nor on hold. */
  private applySending(): void {
    for (const track of this.stream?.getAudioTracks() ?? []) track.enabled = !this.muted && !this.held;
  }
}
