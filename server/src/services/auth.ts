import type { Context } from 'koa';
import { SessionTokens, hashApiKey, looksLikeApiKey } from '../auth/tokens.js';
import { unauthorized } from '../errors.js';
import type { TenantRepository } from '../repositories/tenants.js';
import type { AppState, Caller } from '../http/state.js';

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * Authenticates callers: practitioner session tokens for the browser API,
 * tenant API keys for the host-backend API. Neither kind is accepted in place
 * of the other.
 */
export class AuthService {
  constructor(
    readonly tokens: SessionTokens,
    private readonly tenants: TenantRepository,
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
    const practitioner = await this.tenants.findPractitioner(claims.tenantId, claims.practitionerId);
    if (!practitioner) throw unauthorized('The session is no longer valid');
    return { kind: 'practitioner', tenantId: claims.tenantId, practitionerId: claims.practitionerId, expiresAt: claims.expiresAt };
  }

  async apiKey(token: string): Promise<Caller & { kind: 'apiKey' }> {
    if (!looksLikeApiKey(token)) throw unauthorized('This endpoint needs the tenant API key');
    const tenant = await this.tenants.findByApiKeyHash(hashApiKey(token));
    if (!tenant) throw unauthorized('The API key is not valid');
    return { kind: 'apiKey', tenantId: tenant.id };
  }
}
