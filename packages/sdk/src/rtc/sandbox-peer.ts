import type { CareApiError } from '../errors.js';
import type { RtcRole, SignalChannel, SignalMessage } from './signal-channel.js';

export type PeerState = 'waiting' | 'connecting' | 'connected' | 'reconnecting' | 'ended';

export interface SandboxPeerOptions {
  role: RtcRole;
  channel: SignalChannel;
  /** Camera and/or microphone tracks to send. */
  localStream: MediaStream;
  /**
   * A video visit: the offer has a video channel even when `localStream` has
   * no camera (a practitioner joining by voice), so a shared screen can be
   * sent on it later, and the other side's camera still arrives.
   */
  video?: boolean;
  rtcConfig?: RTCConfiguration;
}

/** Fired for hold / resume / mute hints from the other side. */
export class PeerControlEvent extends Event {
  constructor(
    readonly control: 'hold' | 'resume' | 'mute',
    readonly data: unknown,
  ) {
    super('control');
  }
}

export class PeerEndedEvent extends Event {
  constructor(readonly reason: 'bye' | 'replaced' | 'closed' | 'refused', readonly error?: CareApiError) {
    super('ended');
  }
}

/**
 * One side of a sandbox call or video visit: a real RTCPeerConnection whose
 * offers, answers and ICE candidates travel through the CareComms server. The
 * practitioner always makes the offer when the patient's seat is taken, so there
 * is no glare; a patient re-joining (new device, reload) gets a fresh connection.
 *
 * Events: `state` (see `state`), `remote-stream`, `control` ({@link PeerControlEvent}),
 * `ended` ({@link PeerEndedEvent}).
 */
export class SandboxPeer extends EventTarget {
  state: PeerState = 'waiting';
  remoteStream: MediaStream | null = null;
  /** Whether the other side's seat is taken. */
  peerPresent = false;

  private pc: RTCPeerConnection | null = null;
  private pendingCandidates: RTCIceCandidateInit[] = [];
  private unsubscribe: (() => void) | null = null;
  private localStream: MediaStream;
  /** Signals are handled one at a time, in arrival order (an answer must not race its offer's candidates). */
  private handling: Promise<void> = Promise.resolve();

  constructor(private readonly options: SandboxPeerOptions) {
    super();
    this.localStream = options.localStream;
  }

  start(): void {
    this.unsubscribe = this.options.channel.subscribe({
      message: (message) => {
        this.handling = this.handling.then(() => this.onSignal(message)).catch(() => this.setState('reconnecting'));
      },
      drop: () => this.setState(this.peerPresent ? 'reconnecting' : 'waiting'),
      end: (error) => this.end('refused', error),
    });
  }

  /** Swap the camera or microphone (or a screen share) without renegotiating. */
  async replaceTrack(track: MediaStreamTrack): Promise<void> {
    const old = this.localStream.getTracks().find((t) => t.kind === track.kind);
    if (old) this.localStream.removeTrack(old);
    this.localStream.addTrack(track);
    await this.sender(track.kind)?.replaceTrack(track);
  }

  /** Stops sending anything of this kind (a screen share ended with no camera to go back to), without renegotiating. */
  async removeTrack(kind: 'audio' | 'video'): Promise<void> {
    for (const track of this.localStream.getTracks().filter((t) => t.kind === kind)) this.localStream.removeTrack(track);
    await this.sender(kind)?.replaceTrack(null);
  }

  /** The sender of this kind: found by its channel, which it keeps while it sends nothing. */
  private sender(kind: string): RTCRtpSender | undefined {
    return this.pc?.getTransceivers().find((t) => t.receiver.track.kind === kind && t.currentDirection !== 'stopped')?.sender;
  }

  /** Tell the other side about hold, resume or mute (the simulator shows "On hold"). */
  async sendControl(control: 'hold' | 'resume' | 'mute', data?: unknown): Promise<void> {
    await this.options.channel.send({ type: control, data });
  }

  close(): void {
    this.end('closed');
  }

  private setState(state: PeerState): void {
    if (this.state === state || this.state === 'ended') return;
    this.state = state;
    this.dispatchEvent(new Event('state'));
  }

  private end(reason: PeerEndedEvent['reason'], error?: CareApiError): void {
    if (this.state === 'ended') return;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.resetConnection();
    this.setState('ended');
    this.dispatchEvent(new PeerEndedEvent(reason, error));
  }

  private resetConnection(): void {
    this.pc?.close();
    this.pc = null;
    this.pendingCandidates = [];
    if (this.remoteStream) {
      this.remoteStream = null;
      this.dispatchEvent(new Event('remote-stream'));
    }
  }

  private newConnection(): RTCPeerConnection {
    this.resetConnection();
    const pc = new RTCPeerConnection(this.options.rtcConfig ?? {});
    for (const track of this.localStream.getTracks()) pc.addTrack(track, this.localStream);
    // No camera on the side that offers: a video channel all the same (see `video`).
    if (this.options.video && this.options.role === 'practitioner' && this.localStream.getVideoTracks().length === 0) {
      pc.addTransceiver('video', { direction: 'sendrecv', streams: [this.localStream] });
    }
    pc.onicecandidate = ({ candidate }) => {
      if (candidate) void this.options.channel.send({ type: 'candidate', data: candidate.toJSON() }).catch(() => undefined);
    };
    pc.ontrack = ({ track, streams }) => {
      this.remoteStream ??= streams[0] ?? new MediaStream();
      if (!this.remoteStream.getTracks().includes(track)) this.remoteStream.addTrack(track);
      this.dispatchEvent(new Event('remote-stream'));
    };
    pc.onconnectionstatechange = () => {
      if (pc !== this.pc) return;
      if (pc.connectionState === 'connected') this.setState('connected');
      else if (pc.connectionState === 'disconnected') this.setState('reconnecting');
      else if (pc.connectionState === 'failed' && this.options.role === 'practitioner') void this.offer(true);
    };
    this.pc = pc;
    return pc;
  }

  private async offer(iceRestart = false): Promise<void> {
    const pc = iceRestart && this.pc ? this.pc : this.newConnection();
    this.setState(iceRestart ? 'reconnecting' : 'connecting');
    const offer = await pc.createOffer({ iceRestart });
    await pc.setLocalDescription(offer);
    await this.options.channel.send({ type: 'offer', data: pc.localDescription!.toJSON() });
  }

  private async flushCandidates(pc: RTCPeerConnection): Promise<void> {
    for (const candidate of this.pendingCandidates.splice(0)) {
      // One left over from an earlier negotiation does not belong to this connection; skip it.
      await pc.addIceCandidate(candidate).catch(() => undefined);
    }
  }

  private async onSignal(message: SignalMessage): Promise<void> {
    switch (message.type) {
      case 'peer-joined':
        this.peerPresent = true;
        if (this.options.role === 'practitioner') await this.offer();
        else this.setState('connecting');
        break;
      case 'peer-left':
        this.peerPresent = false;
        this.resetConnection();
        this.setState('waiting');
        break;
      case 'offer': {
        // Candidates may overtake their offer on the way through the server: keep them for the new connection.
        const early = this.pendingCandidates;
        const pc = this.newConnection();
        this.pendingCandidates = early;
        this.setState('connecting');
        await pc.setRemoteDescription(message.data as RTCSessionDescriptionInit);
        await this.flushCandidates(pc);
        await pc.setLocalDescription(await pc.createAnswer());
        await this.options.channel.send({ type: 'answer', data: pc.localDescription!.toJSON() });
        break;
      }
      case 'answer':
        if (this.pc) {
          await this.pc.setRemoteDescription(message.data as RTCSessionDescriptionInit);
          await this.flushCandidates(this.pc);
        }
        break;
      case 'candidate':
        if (this.pc?.remoteDescription) await this.pc.addIceCandidate(message.data as RTCIceCandidateInit);
        else this.pendingCandidates.push(message.data as RTCIceCandidateInit);
        break;
      case 'hold':
      case 'resume':
      case 'mute':
        this.dispatchEvent(new PeerControlEvent(message.type, message.data));
        break;
      case 'bye':
        this.end('bye');
        break;
      case 'replaced':
        this.end('replaced');
        break;
    }
  }
}
