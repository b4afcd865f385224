import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { LRUCache } from 'lru-cache';
import { unauthorized } from '../errors.js';

export const AUDIENCE = 'carecomms';
const ISSUER = 'carecomms';
const SESSION_TYPE = 'session';

/** Who a browser session acts as. */
export interface SessionClaims {
  tenantId: string;
  practitionerId: string;
  expiresAt: Date;
}

/** Bound on the verified session tokens remembered (one per open browser session is enough). */
const MAX_VERIFIED = 10_000;

/**
 * Practitioner session tokens: short-lived HS256 JWTs (jose) with audience
 * `carecomms`. Only HS256 is accepted, so `alg: none` and key-confusion tokens fail.
 */
export class SessionTokens {
  private readonly key: Uint8Array;
  /**
   * Tokens that passed verification, with their claims. A browser sends the
   * same token with every request until it expires; checking its signature
   * once (WebCrypto HMAC took ~10 % of a history request's CPU) is enough,
   * because a token's claims cannot change. Expiry is checked on every use.
   */
  private readonly verified = new LRUCache<string, SessionClaims>({ max: MAX_VERIFIED });

  constructor(secret: string) {
    // Derive a dedicated key so the same secret can also serve other token kinds.
    this.key = createHash('sha256').update(`carecomms-session:${secret}`).digest();
  }

  async mint(tenantId: string, practitionerId: string, ttlSeconds: number): Promise<{ token: string; expiresAt: Date }> {
    const expiresAt = new Date(Math.floor(Date.now() / 1000 + ttlSeconds) * 1000);
    const token = await new SignJWT({ tid: tenantId, typ: SESSION_TYPE })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(practitionerId)
      .setAudience(AUDIENCE)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .setJti(randomBytes(12).toString('base64url'))
      .sign(this.key);
    return { token, expiresAt };
  }

  async verify(token: string): Promise<SessionClaims> {
    const known = this.verified.get(token);
    if (known && known.expiresAt.getTime() > Date.now()) return known;
    if (known) this.verified.delete(token);
    const claims = await this.verifySignature(token);
    this.verified.set(token, claims);
    return claims;
  }

  private async verifySignature(token: string): Promise<SessionClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        audience: AUDIENCE,
        issuer: ISSUER,
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'sub', 'aud'],
      });
      if (payload.typ !== SESSION_TYPE || typeof payload.tid !== 'string' || typeof payload.sub !== 'string') {
        throw unauthorized('Not a session token');
      }
      return { tenantId: payload.tid, practitionerId: payload.sub, expiresAt: new Date(payload.exp! * 1000) };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthorized('The session token has expired');
      if (error instanceof joseErrors.JOSEError) throw unauthorized('The session token is not valid');
      throw error;
    }
  }
}

const API_KEY_PREFIX = 'cck_';

/** A new host-backend API key; only its hash is stored. */
export function generateApiKey(): { key: string; hash: string } {
  const key = API_KEY_PREFIX + randomBytes(24).toString('base64url');
  return { key, hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}
