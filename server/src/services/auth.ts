import type { Context } from 'koa';
import { SessionTokens, hashApiKey, looksLikeApiKey } from '../auth/tokens.js';
import { unauthorized } from '../errors.js';
import type { TenantRepository } from '../repositories/tenants.js';
import type { AppState, Caller } from '../http/state.js';

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * How long a practitioner found by a session token is taken to still exist
 * without asking the database again. Removing a practitioner revokes their
 * sessions within this time on every instance (their grants go at once: the
 * patient_access rows are deleted with them, so no patient data is reachable).
 */
export const PRACTITIONER_CHECK_TTL_MS = 5_000;
/** Bound on the remembered practitioners; the map starts over when it is full. */
const MAX_REMEMBERED = 10_000;

/**
 * Authenticates callers: practitioner session tokens for the browser API,
 * tenant API keys for the host-backend API. Neither kind is accepted in place
 * of the other.
 */
export class AuthService {
  /** `tenantId:practitionerId` → when the existence check runs again (ms since epoch). */
  private readonly seenPractitioners = new Map<string, number>();

  constructor(
    readonly tokens: SessionTokens,
    private readonly tenants: TenantRepository,
    private readonly now: () => number = Date.now,
  ) {}

  private bearer(ctx: Context): string {
    const match = BEARER.exec(ctx.get('Authorization'));
    if (!match) throw unauthorized();
    return match[1]!;
  }

  async authenticate(ctx: Context & { state: AppState }, kind: 'session' | 'apiKey'): Promise<Caller> {
    const token = this.bearer(ctx);
    const caller = kind === 'session' ? await this.session(token) : await this.apiKey(token);
    ctx.state.caller = caller;
    return caller;
  }

  async session(token: string): Promise<Caller & { kind: 'practitioner' }> {
    if (looksLikeApiKey(token)) throw unauthorized('API keys are for the host backend API, not the browser API');
    const claims = await this.tokens.verify(token);
    // The practitioner (and tenant) must still exist: removing them revokes their sessions.
    if (!(await this.practitionerExists(claims.tenantId, claims.practitionerId))) throw unauthorized('The session is no longer valid');
    return { kind: 'practitioner', tenantId: claims.tenantId, practitionerId: claims.practitionerId, expiresAt: claims.expiresAt };
  }

  /** One query per practitioner every few seconds instead of one per request (see PRACTITIONER_CHECK_TTL_MS). */
  private async practitionerExists(tenantId: string, practitionerId: string): Promise<boolean> {
    const key = `${tenantId}:${practitionerId}`;
    const now = this.now();
    const until = this.seenPractitioners.get(key);
    if (until !== undefined && until > now) return true;
    const practitioner = await this.tenants.findPractitioner(tenantId, practitionerId);
    if (!practitioner) {
      this.seenPractitioners.delete(key);
      return false;
    }
    if (this.seenPractitioners.size >= MAX_REMEMBERED) this.seenPractitioners.clear();
    this.seenPractitioners.set(key, now + PRACTITIONER_CHECK_TTL_MS);
    return true;
  }

  async apiKey(token: string): Promise<Caller & { kind: 'apiKey' }> {
    if (!looksLikeApiKey(token)) throw unauthorized('This endpoint needs the tenant API key');
    const tenant = await this.tenants.findByApiKeyHash(hashApiKey(token));
    if (!tenant) throw unauthorized('The API key is not valid');
    return { kind: 'apiKey', tenantId: tenant.id };
  }
}
