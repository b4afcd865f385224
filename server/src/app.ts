import type { PassThrough } from 'node:stream';
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { createRegistry } from './http/openapi.js';
import { requestHandling, securityHeaders } from './http/middleware.js';
import type { AppState } from './http/state.js';
import type { Logger } from './logger.js';
import { RealtimeHub } from './realtime/hub.js';
import { createRepositories } from './repositories/index.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerBrowserRoutes } from './routes/browser.js';
import type { RouteContext } from './routes/context.js';
import { registerDemoRoutes } from './routes/demo.js';
import { registerEventRoutes } from './routes/events.js';
import { CDN_DIR, EHR_HOST_DIR, staticFiles } from './routes/pages.js';
import { registerSystemRoutes } from './routes/system.js';
import { createServices } from './services/index.js';

export interface AppDeps {
  config: Config;
  db: Database;
  logger: Logger;
}

export interface CareApp {
  koa: Koa<AppState>;
  hub: RealtimeHub;
  repos: ReturnType<typeof createRepositories>;
  services: ReturnType<typeof createServices>;
  /** Starts background work (realtime listener). */
  start(): Promise<void>;
  /** Ends event streams and background work; the caller closes the HTTP server and database. */
  stop(): Promise<void>;
}

/** Builds the Koa app from its dependencies (STYLE §11). */
export function createApp({ config, db, logger }: AppDeps): CareApp {
  const repos = createRepositories(db.knex);
  const services = createServices(db.knex, repos, config.sessionSecret);
  const hub = new RealtimeHub(db, repos.events, repos.patients, logger);
  const registry = createRegistry();
  const router = new Router<AppState>();
  const streams = new Set<PassThrough>();

  const rc: RouteContext = {
    router,
    registry,
    config,
    db,
    repos,
    services,
    hub,
    authenticate: async (ctx, kind) => {
      await services.auth.authenticate(ctx, kind);
    },
  };
  registerSystemRoutes(rc);
  registerBrowserRoutes(rc, []);
  registerEventRoutes(rc, streams);
  registerAdminRoutes(rc);
  if (config.demo) registerDemoRoutes(rc);

  const koa = new Koa<AppState>({ proxy: true });
  // A browser closing its event stream is routine, not an error.
  koa.on('error', (error: { code?: string; message?: string }) => {
    if (error.code === 'ERR_STREAM_PREMATURE_CLOSE' || error.code === 'ECONNRESET' || error.code === 'EPIPE') return;
    logger.error({ err: { message: error.message, code: error.code } }, 'response error');
  });
  koa.use(requestHandling(logger));
  koa.use(securityHeaders());
  koa.use(bodyParser({ enableTypes: ['json'], jsonLimit: '64kb', encoding: 'utf-8' }));
  koa.use(router.routes());
  koa.use(router.allowedMethods({ throw: false }));
  koa.use(staticFiles('/cdn/', CDN_DIR, { maxAge: 60_000 }));
  if (config.demo) koa.use(staticFiles('/', EHR_HOST_DIR, { csp: true }));

  return {
    koa,
    hub,
    repos,
    services,
    async start() {
      await hub.start();
    },
    async stop() {
      for (const stream of streams) stream.end();
      await hub.stop();
    },
  };
}
