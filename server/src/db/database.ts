import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import ClientPgLite from 'knex-pglite';
import { knex, type Knex } from './knex.js';
import { migrationSource } from '../migrations/index.js';
import { Notifier, registerNotifier } from './notify.js';
import { copyPgliteTemplate, pgliteTemplatePath, writeDirectoryOnce } from './pglite-template.js';

/** Channel every realtime write notifies on; the payload is the realtime_events id. */
export const EVENTS_CHANNEL = 'carecomms_events';

/**
 * The database and the way to listen to it. PostgreSQL (several server
 * instances may share it) when a URL is given, otherwise embedded PGlite kept in
 * a directory (or in memory for tests).
 */
export interface Database {
  kind: 'postgres' | 'pglite';
  knex: Knex;
  /** A new embedded data directory copied from the migrated template: no migration can be pending. */
  fromTemplate?: boolean;
  /** Sends queued after-commit notifications (see `notifyAfterCommit`). */
  notifier: Notifier;
  /** Calls `onNotify` with each payload sent on `channel`; resolves to an unlisten function. */
  listen(channel: string, onNotify: (payload: string) => void, onError?: (error: Error) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; absent → PGlite. */
  url?: string | null;
  /** PGlite data directory; absent → in memory. */
  dataDir?: string | null;
  /** A new PGlite data directory starts as a copy of this cluster directory (see pglite-template.ts); default: the build's. */
  pgliteTemplate?: string;
  /** pg pool size. */
  poolMax?: number;
}

// Keep timestamps and bigint ids as JS values the API can shape: bigints (int8) as strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options.poolMax ?? 10) : openPglite(options.dataDir ?? null, options.pgliteTemplate);
}

async function openPostgres(url: string, poolMax: number): Promise<Database> {
  const db = knex({
    client: 'pg',
    // JIT off: our statements are short, and JIT compiling one whose estimated cost passes jit_above_cost
    // (a batch of history pages, say) took about 40 ms per execution, forty times the statement itself.
    // Options in DATABASE_URL itself take precedence.
    connection: { connectionString: url, application_name: 'carecomms', options: '-c jit=off' },
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 5000,
    migrations: { migrationSource, tableName: 'knex_migrations' },
    // Connection failures surface as 503s and in our own logs; keep knex's console output out of them.
    log: { warn: () => undefined, error: () => undefined, deprecate: () => undefined, debug: () => undefined },
  });
  const listeners = new Set<pg.Client>();
  const notifier = withNotifier(db);
  return {
    kind: 'postgres',
    knex: db,
    notifier,
    async listen(channel, onNotify, onError) {
      // A dedicated connection (LISTEN cannot share the pool), re-established
      // with back-off when the database goes away and comes back.
      let client: pg.Client | null = null;
      let stopped = false;
      let retry: NodeJS.Timeout | undefined;
      const connect = async (): Promise<void> => {
        const next = new pg.Client({ connectionString: url, application_name: 'carecomms-listen' });
        next.on('notification', (msg) => {
          if (msg.channel === channel && msg.payload !== undefined) onNotify(msg.payload);
        });
        let lost = false;
        const reconnect = (error?: Error) => {
          if (lost || stopped) return;
          lost = true;
          if (error) onError?.(error);
          listeners.delete(next);
          next.end().catch(() => undefined);
          let delay = 250;
          const attempt = () => {
            retry = setTimeout(() => {
              if (stopped) return;
              connect().catch(() => {
                delay = Math.min(delay * 2, 5000);
                attempt();
              });
            }, delay);
          };
          attempt();
        };
        next.on('error', reconnect);
        next.on('end', () => reconnect());
        await next.connect();
        await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        client = next;
        listeners.add(next);
      };
      await connect();
      return async () => {
        stopped = true;
        clearTimeout(retry);
        if (client) {
          listeners.delete(client);
          await client.end().catch(() => undefined);
        }
      };
    },
    async close() {
      await notifier.drain();
      await Promise.all([...listeners].map((c) => c.end().catch(() => undefined)));
      await db.destroy();
    },
  };
}

/** A PGlite instance on `dataDir` (in memory without one); a new directory starts from the template when there is one. */
async function startPglite(dataDir: string | null, template?: string | null): Promise<{ pglite: PGlite; fromTemplate: boolean }> {
  if (!dataDir) {
    const pglite = new PGlite();
    await pglite.waitReady;
    return { pglite, fromTemplate: false };
  }
  mkdirSync(path.dirname(path.resolve(dataDir)), { recursive: true });
  if (template !== null && !existsSync(dataDir) && (await copyPgliteTemplate(dataDir, template))) {
    const pglite = new PGlite(dataDir);
    try {
      await pglite.waitReady;
      return { pglite, fromTemplate: true };
    } catch {
      // A template this PGlite cannot read: start the slow way.
      await pglite.close().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const pglite = new PGlite(dataDir);
  await pglite.waitReady;
  return { pglite, fromTemplate: false };
}

/** Makes the PGlite template (see pglite-template.ts) unless it exists; returns its path. */
export async function createPgliteTemplate(dir = pgliteTemplatePath()): Promise<string> {
  if (existsSync(path.join(dir, 'PG_VERSION'))) return dir;
  await writeDirectoryOnce(dir, async (partial) => {
    const db = await openPglite(partial, null);
    await db.knex.migrate.latest();
    // Only `postgres` is ever opened; the two template databases would be a third of the files each first start copies.
    for (const name of ['template0', 'template1']) {
      await db.knex.raw(`ALTER DATABASE ${name} IS_TEMPLATE false`);
      await db.knex.raw(`DROP DATABASE ${name}`);
    }
    await db.knex.raw('CHECKPOINT');
    await db.close();
  });
  return dir;
}

async function openPglite(dataDir: string | null, template?: string | null): Promise<Database> {
  const { pglite, fromTemplate } = await startPglite(dataDir, template);
  const db = knex({
    client: ClientPgLite as unknown as Knex.Config['client'],
    dialect: 'postgres',
    connection: (() => ({ pglite })) as unknown as Knex.Config['connection'],
    migrations: { migrationSource, tableName: 'knex_migrations' },
  });
  const notifier = withNotifier(db);
  return {
    kind: 'pglite',
    fromTemplate,
    knex: db,
    notifier,
    async listen(channel, onNotify) {
      const unlisten = await pglite.listen(channel, onNotify);
      return async () => {
        await unlisten().catch(() => undefined);
      };
    },
    async close() {
      await notifier.drain();
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
}

function withNotifier(db: Knex): Notifier {
  // Losing a notification only delays a live update (listeners also sweep); nothing to do but carry on.
  const notifier = new Notifier(db, () => undefined);
  registerNotifier(db, notifier);
  return notifier;
}

/** Whether an error means the database cannot be reached (→ 503, not 500). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const e = error as { code?: string; name?: string; message?: string };
  if (e.name === 'KnexTimeoutError') return true;
  if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006'].includes(e.code)) {
    return true;
  }
  return /Connection terminated|Client has encountered a connection error|connection is closed/i.test(e.message ?? '');
}
