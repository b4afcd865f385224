import type { SeatRole } from '../auth/seat-tokens.js';

/** What the visit service asks of a video provider (Twilio Video, or the sandbox's WebRTC). */
export interface VideoRoomRequest {
  /** Opaque and unique: no PHI ever goes to the provider. */
  uniqueName: string;
  /** Where the provider reports room and participant events; carries only an opaque visit id. */
  statusCallbackUrl: string;
}

export interface VideoRoom {
  sid: string;
}

export interface SeatTokenRequest {
  visitId: string;
  tenantId: string;
  role: SeatRole;
  /** Opaque identity the provider will report participant events with. */
  identity: string;
  roomName: string;
  /** The token is not valid after this (the visit's expiry, at most two hours away). */
  expiresAt: Date;
}

/** The outside world for video visits. Methods throw `ProviderError` for provider failures. */
export interface VideoProvider {
  readonly name: 'twilio' | 'sandbox';
  /** A room for two participants. */
  createRoom(request: VideoRoomRequest): Promise<VideoRoom>;
  /** Ends the room for everyone in it; a room that has already ended is not an error. */
  completeRoom(room: { sid: string; name: string }): Promise<void>;
  /** A token that lets one browser take one seat in one room. */
  seatToken(request: SeatTokenRequest): Promise<string>;
}

/** Longest a visit (and any token for it) lives: the original spec's two hours. */
export const VISIT_TTL_SECONDS = 2 * 3600;
