import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { unauthorized } from '../errors.js';
import { AUDIENCE } from './tokens.js';

const ISSUER = 'carecomms';

/** One seat of a sandbox call: what a Twilio Voice token is for a Twilio call. */
export interface CallSeatClaims {
  callId: string;
  tenantId: string;
  role: 'practitioner' | 'patient';
  /** The browser's opaque identity for the call. */
  identity: string;
  expiresAt: Date;
}

/** The right to stream one call's recording for a few minutes (an `<audio>` element cannot send a bearer token). */
export interface RecordingClaims {
  callId: string;
  tenantId: string;
  practitionerId: string;
  expiresAt: Date;
}

/**
 * Tokens for calls: sandbox call seats (the sandbox's stand-in for Twilio's
 * Voice access token) and short-lived recording links. HS256 under a key
 * derived for calls only, each with its own `typ`, so neither is ever accepted
 * as a session, a video seat, or the other.
 */
export class CallTokens {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = createHash('sha256').update(`carecomms-call:${secret}`).digest();
  }

  private sign(typ: string, subject: string, claims: Record<string, string>, expiresAt: Date): Promise<string> {
    return new SignJWT({ ...claims, typ })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(subject)
      .setAudience(AUDIENCE)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .setJti(randomBytes(12).toString('base64url'))
      .sign(this.key);
  }

  /** The claims of a token of type `typ`, or null when it is not one (bad signature, other kind, malformed). */
  private async read(token: string, typ: string, expiredMessage: string): Promise<(Record<string, unknown> & { sub: string; exp: number }) | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, { audience: AUDIENCE, issuer: ISSUER, algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] });
      return payload.typ === typ ? (payload as Record<string, unknown> & { sub: string; exp: number }) : null;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthorized(expiredMessage);
      if (error instanceof joseErrors.JOSEError) return null;
      throw error;
    }
  }

  seat(claims: Omit<CallSeatClaims, 'expiresAt'>, expiresAt: Date): Promise<string> {
    return this.sign('call-seat', claims.callId, { tid: claims.tenantId, role: claims.role, idn: claims.identity }, expiresAt);
  }

  async verifySeat(token: string): Promise<CallSeatClaims | null> {
    const p = await this.read(token, 'call-seat', 'The call token has expired');
    if (!p || typeof p.tid !== 'string' || typeof p.idn !== 'string' || (p.role !== 'practitioner' && p.role !== 'patient')) return null;
    return { callId: p.sub, tenantId: p.tid, role: p.role, identity: p.idn, expiresAt: new Date(p.exp * 1000) };
  }

  recording(claims: Omit<RecordingClaims, 'expiresAt'>, expiresAt: Date): Promise<string> {
    return this.sign('call-recording', claims.callId, { tid: claims.tenantId, pid: claims.practitionerId }, expiresAt);
  }

  async verifyRecording(token: string): Promise<RecordingClaims | null> {
    const p = await this.read(token, 'call-recording', 'The recording link has expired');
    if (!p || typeof p.tid !== 'string' || typeof p.pid !== 'string') return null;
    return { callId: p.sub, tenantId: p.tid, practitionerId: p.pid, expiresAt: new Date(p.exp * 1000) };
  }
}
