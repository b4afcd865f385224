import { defineRoute } from '../http/route.js';
import { z } from '../http/openapi.js';
import { notFound } from '../errors.js';
import { DEMO_PRACTITIONERS } from '../demo/seed.js';
import type { RouteContext } from './context.js';

/** Demo mode only: a session for a demo practitioner without a host backend. */
export function registerDemoRoutes(rc: RouteContext): void {
  const { router, registry, repos, services } = rc;
  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/demo/session',
      summary: 'Demo mode: a session token for a demo practitioner',
      tags: ['demo'],
      auth: 'none',
      body: z.object({ practitioner: z.enum(DEMO_PRACTITIONERS).default('dr-lee') }),
      responses: { 200: { description: 'A session token', content: { 'application/json': { schema: z.object({ token: z.string(), expiresAt: z.string() }) } } } },
      errors: [422, 429],
    },
    async () => undefined,
    async (ctx, { body }) => {
      const slug = body.practitioner === 'dr-other' ? 'other-clinic' : 'demo-clinic';
      const tenant = await repos.tenants.findBySlug(slug);
      const practitioner = tenant && (await repos.tenants.findPractitionerByExternalId(tenant.id, body.practitioner));
      if (!tenant || !practitioner) throw notFound('Demo practitioner');
      const { token, expiresAt } = await services.auth.tokens.mint(tenant.id, practitioner.id, 3600);
      ctx.body = { token, expiresAt: expiresAt.toISOString() };
    },
  );
}
