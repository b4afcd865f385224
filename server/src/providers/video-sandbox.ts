import { randomBytes } from 'node:crypto';
import type { SeatTokens } from '../auth/seat-tokens.js';
import type { SignallingHub } from '../realtime/signalling.js';
import type { SeatTokenRequest, VideoProvider, VideoRoom } from './video.js';

/**
 * Video with no external service: the two browsers talk WebRTC directly,
 * signalled through the server's SignallingHub (one seat per role, keyed by
 * visit id). A room is nothing more than that hub entry, so creating one only
 * mints a Twilio-shaped SID; tokens are seat tokens for the signal endpoints.
 */
export class SandboxVideoProvider implements VideoProvider {
  readonly name = 'sandbox' as const;

  constructor(
    private readonly hub: SignallingHub,
    private readonly tokens: SeatTokens,
  ) {}

  async createRoom(): Promise<VideoRoom> {
    return { sid: `RM${randomBytes(16).toString('hex')}` };
  }

  /** Both seats are told the visit is over and released. */
  async completeRoom(room: { name: string }): Promise<void> {
    // `bye` reaches the other seat of its sender: one for each seat, then the room is dropped.
    this.hub.send(room.name, { type: 'bye', from: 'patient' });
    this.hub.close(room.name, 'practitioner');
  }

  async seatToken(request: SeatTokenRequest): Promise<string> {
    return this.tokens.mint({ visitId: request.visitId, tenantId: request.tenantId, role: request.role }, request.expiresAt);
  }
}
