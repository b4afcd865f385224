import { createSecretKey, type KeyObject } from 'node:crypto';
import twilio from 'twilio';
import type { TwilioConfig } from '../config.js';

const { AccessToken } = twilio.jwt;

export interface VoiceTokenOptions {
  /** Opaque identity (never a name or number). */
  identity: string;
  ttlSeconds: number;
  /** TwiML app whose voice URL answers the browser's outgoing call. */
  outgoingApplicationSid: string | null;
  /** Parameters Twilio passes back to the voice webhook (e.g. our call id). */
  outgoingApplicationParams?: Record<string, string>;
}

export interface VideoTokenOptions {
  identity: string;
  /** The only room this token opens. */
  room: string;
  ttlSeconds: number;
}

/**
 * Signs Twilio access tokens for browsers (Voice and Video grants). Signs with
 * the API key (TWILIO_API_KEY_SID/SECRET) or, failing that, the account SID and
 * auth token, as the original spec does. The secret is turned into a
 * `KeyObject` once: twilio's `toJwt()` passes it to jsonwebtoken, which
 * otherwise rebuilds a key from the string on every call (measured here ~70×
 * slower; see NOTES.md).
 */
export class AccessTokenSigner {
  private readonly keySid: string;
  private readonly key: KeyObject;

  constructor(private readonly config: Omit<TwilioConfig, 'requestTimeoutMs'>) {
    this.keySid = config.apiKeySid ?? config.accountSid;
    this.key = createSecretKey(Buffer.from(config.apiKeySecret ?? config.authToken, 'utf8'));
  }

  private token(identity: string, ttlSeconds: number) {
    // twilio's types say string; jsonwebtoken (which it calls) accepts a KeyObject.
    return new AccessToken(this.config.accountSid, this.keySid, this.key as unknown as string, { identity, ttl: ttlSeconds });
  }

  voice(options: VoiceTokenOptions): string {
    const token = this.token(options.identity, options.ttlSeconds);
    token.addGrant(
      new AccessToken.VoiceGrant({
        ...(options.outgoingApplicationSid ? { outgoingApplicationSid: options.outgoingApplicationSid } : {}),
        ...(options.outgoingApplicationParams ? { outgoingApplicationParams: options.outgoingApplicationParams } : {}),
        incomingAllow: false,
      }),
    );
    return token.toJwt();
  }

  video(options: VideoTokenOptions): string {
    const token = this.token(options.identity, options.ttlSeconds);
    token.addGrant(new AccessToken.VideoGrant({ room: options.room }));
    return token.toJwt();
  }
}
