/**
 * Where a demo start's time goes, phase by phase, in a child process as the
 * server runs (under tsx): loading the server's modules, opening PGlite on a
 * fresh or existing directory, migrations, the demo seed, starting the app.
 * Prints one JSON line; bench/start.ts runs it.
 *
 *   node --import tsx --conditions=source bench/start-phases.ts DIR
 */
const t0 = performance.now();
const { openDatabase } = await import('../server/src/db/database.js');
const { createApp } = await import('../server/src/app.js');
const { loadConfig } = await import('../server/src/config.js');
const { seedDemo } = await import('../server/src/demo/seed.js');
const { createLogger } = await import('../server/src/logger.js');
const t1 = performance.now();
const dataDir = process.argv[2]!;
const db = await openDatabase({ dataDir: `${dataDir}/pglite` });
const t2 = performance.now();
await db.knex.migrate.latest();
const t3 = performance.now();
const config = loadConfig({ DEMO: '1', SESSION_SECRET: 'bench-secret-bench-secret-bench-secret', LOG_LEVEL: 'silent', DATA_DIR: dataDir });
const app = createApp({ config, db, logger: createLogger('silent') });
await seedDemo(db.knex, app.repos, dataDir);
const t4 = performance.now();
await app.start();
const t5 = performance.now();
await app.stop();
await db.close();
console.log(JSON.stringify({ modules: t1 - t0, openDatabase: t2 - t1, migrate: t3 - t2, seed: t4 - t3, appStart: t5 - t4 }));
export {};
