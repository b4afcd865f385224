import type Router from '@koa/router';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { AppState } from '../http/state.js';
import type { AppContext } from '../http/route.js';
import type { RealtimeHub } from '../realtime/hub.js';
import type { Repositories } from '../repositories/index.js';
import type { Services } from '../services/index.js';

/** What every route module is given. */
export interface RouteContext {
  router: Router<AppState>;
  registry: OpenAPIRegistry;
  config: Config;
  db: Database;
  repos: Repositories;
  services: Services;
  hub: RealtimeHub;
  authenticate: (ctx: AppContext, kind: 'session' | 'apiKey') => Promise<void>;
}
