import twilio from 'twilio';
import type { TwilioConfig } from '../config.js';
import { AccessTokenSigner } from './access-tokens.js';
import { TwilioHttpClient } from './twilio.js';
import { ProviderError } from './types.js';
import type { SeatTokenRequest, VideoProvider, VideoRoom, VideoRoomRequest } from './video.js';

/** Minutes a room waits for its first participant, and after its last one leaves, before Twilio ends it. */
const UNUSED_ROOM_TIMEOUT_MIN = 10;
const EMPTY_ROOM_TIMEOUT_MIN = 10;

/**
 * Twilio Video: rooms through the REST API (the same HTTP client as SMS, so
 * TWILIO_API_URL reaches a local mock in tests) and Video access tokens signed
 * offline by the shared AccessTokenSigner.
 */
export class TwilioVideoProvider implements VideoProvider {
  readonly name = 'twilio' as const;
  private readonly client: twilio.Twilio;
  private readonly signer: AccessTokenSigner;

  constructor(config: TwilioConfig, apiUrl: string | null) {
    this.client = twilio(config.accountSid, config.authToken, { httpClient: new TwilioHttpClient(apiUrl, config.requestTimeoutMs), autoRetry: false });
    this.signer = new AccessTokenSigner(config);
  }

  async createRoom(request: VideoRoomRequest): Promise<VideoRoom> {
    const room = await this.client.video.v1.rooms.create({
      uniqueName: request.uniqueName,
      type: 'group',
      maxParticipants: 2,
      statusCallback: request.statusCallbackUrl,
      statusCallbackMethod: 'POST',
      recordParticipantsOnConnect: false,
      unusedRoomTimeout: UNUSED_ROOM_TIMEOUT_MIN,
      emptyRoomTimeout: EMPTY_ROOM_TIMEOUT_MIN,
    });
    return { sid: room.sid };
  }

  async completeRoom(room: { sid: string }): Promise<void> {
    try {
      await this.client.video.v1.rooms(room.sid).update({ status: 'completed' });
    } catch (error) {
      // Already over (Twilio ended it when empty, or a second End): nothing left to do.
      if (error instanceof ProviderError && (error.options.httpStatus === 404 || error.code === '53118')) return;
      throw error;
    }
  }

  async seatToken(request: SeatTokenRequest): Promise<string> {
    // Never past the visit's end (at most two hours from its start).
    const ttlSeconds = Math.max(60, Math.floor((request.expiresAt.getTime() - Date.now()) / 1000));
    return this.signer.video({ identity: request.identity, room: request.roomName, ttlSeconds });
  }
}
