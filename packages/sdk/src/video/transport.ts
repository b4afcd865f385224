import type { CareApiError } from '../errors.js';

export type VideoSessionState = 'connecting' | 'waiting' | 'connected' | 'reconnecting' | 'ended';

/**
 * Why a session ended: `left` (this side hung up), `ended` (the visit is over:
 * the other side or the server ended it), `replaced` (the same seat was taken
 * from another device), `refused` (the seat is not valid: wrong or expired
 * token), `failed` (the connection could not be made or kept).
 */
export type VideoEndReason = 'left' | 'ended' | 'replaced' | 'refused' | 'failed';

/** Whether the other side is sending sound and picture. */
export interface RemoteMediaState {
  audio: boolean;
  video: boolean;
}

/** What a transport tells the session. */
export interface TransportListener {
  state(state: Exclude<VideoSessionState, 'ended'>): void;
  remoteStream(stream: MediaStream | null): void;
  remoteMedia(media: RemoteMediaState): void;
  ended(reason: VideoEndReason, error?: CareApiError | Error): void;
}

/** Moves media between this browser and the other seat: Twilio Video, or the sandbox's WebRTC. */
export interface VideoTransport {
  connect(localStream: MediaStream): Promise<void>;
  /** Sends this track instead of the current one of its kind (device switch, screen share). */
  replaceTrack(track: MediaStreamTrack): Promise<void>;
  /** Stops sending anything of this kind (a screen share ended, with no camera to go back to). */
  removeTrack(kind: 'audio' | 'video'): Promise<void>;
  /** Mutes or unmutes what this side sends, and lets the other side know. */
  setEnabled(kind: 'audio' | 'video', enabled: boolean): void;
  disconnect(): void;
}
