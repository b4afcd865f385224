import { generateDocument } from '../http/openapi.js';
import type { RouteContext } from './context.js';

/** Health, readiness and the OpenAPI document. */
export function registerSystemRoutes(rc: RouteContext): void {
  const { router, registry, db, config } = rc;

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    try {
      await db.knex.raw('select 1');
      ctx.body = { status: 'ready', database: db.kind };
    } catch {
      ctx.status = 503;
      ctx.type = 'application/problem+json';
      ctx.body = { type: 'about:blank', title: 'Service unavailable', status: 503, code: 'database_unavailable', detail: 'The database is not reachable' };
    }
  });

  let document: unknown;
  router.get('/api/v1/openapi.json', (ctx) => {
    document ??= generateDocument(registry, config.baseUrl);
    ctx.body = document;
  });
}
