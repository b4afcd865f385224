import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { unauthorized } from '../errors.js';
import { AUDIENCE } from './tokens.js';

const ISSUER = 'carecomms';
const SEAT_TYPE = 'video-seat';

export type SeatRole = 'practitioner' | 'patient';

export interface SeatClaims {
  visitId: string;
  tenantId: string;
  role: SeatRole;
  expiresAt: Date;
}

/**
 * Sandbox video seat tokens: what Twilio's Video access token is for a Twilio
 * room, for the sandbox's signalling endpoints. HS256 under a key derived for
 * this purpose only, so a seat token is never accepted as a session and a
 * session token never opens a seat by mistake.
 */
export class SeatTokens {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = createHash('sha256').update(`carecomms-video-seat:${secret}`).digest();
  }

  async mint(claims: Omit<SeatClaims, 'expiresAt'>, expiresAt: Date): Promise<string> {
    return new SignJWT({ tid: claims.tenantId, typ: SEAT_TYPE, role: claims.role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.visitId)
      .setAudience(AUDIENCE)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .setJti(randomBytes(12).toString('base64url'))
      .sign(this.key);
  }

  /** The seat a token opens, or null when it is not a seat token at all (so the caller may try a session). */
  async verify(token: string): Promise<SeatClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        audience: AUDIENCE,
        issuer: ISSUER,
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'sub'],
      });
      if (payload.typ !== SEAT_TYPE || typeof payload.tid !== 'string' || (payload.role !== 'practitioner' && payload.role !== 'patient')) {
        return null;
      }
      return { visitId: payload.sub!, tenantId: payload.tid, role: payload.role, expiresAt: new Date(payload.exp! * 1000) };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthorized('The video seat token has expired');
      if (error instanceof joseErrors.JWSSignatureVerificationFailed) return null;
      if (error instanceof joseErrors.JOSEError) return null;
      throw error;
    }
  }
}
