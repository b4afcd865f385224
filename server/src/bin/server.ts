import { createServer } from 'node:http';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { createApp } from '../app.js';
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { seedDemo } from '../demo/seed.js';
import { createLogger } from '../logger.js';
import { answerClientError } from '../http/middleware.js';
import { closeServer } from '../http/close.js';

/** Reads config, migrates, starts the server, and shuts down gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`carecomms: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.databaseUrl ? null : path.join(config.dataDir, 'pglite') });
  if (!db.fromTemplate) await db.knex.migrate.latest();
  if (config.demo) await seedDemo(db.knex, createApp({ config, db, logger }).repos, config.dataDir);

  const app = createApp({ config, db, logger });
  await app.start();
  const server = createServer(app.koa.callback());
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const origin = config.baseUrl;
  const lines = [
    `CareComms server listening on http://${config.host}:${port} (${db.kind === 'pglite' ? 'embedded PGlite in ' + path.relative(process.cwd(), config.dataDir) : 'PostgreSQL'}, ${config.twilio ? 'Twilio' : 'sandbox'} provider)`,
  ];
  if (config.demo) {
    lines.push(`  Demo EHR page:      ${origin}/`);
    lines.push(`  API description:   ${origin}/api/v1/openapi.json`);
    if (!config.twilio) lines.push(`  Patient phone:     ${origin}/sandbox/phone?phone=%2B61491570006  (Margaret Thompson's simulated phone)`);
    try {
      JSON.parse(readFileSync(path.join(config.dataDir, 'demo-api-keys.json'), 'utf8'));
      lines.push(`  Demo API keys:     ${path.join(path.relative(process.cwd(), config.dataDir), 'demo-api-keys.json')}`);
    } catch {
      // no keys file (PostgreSQL seeded elsewhere): nothing to point at
    }
  }
  process.stdout.write(lines.join('\n') + '\n');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // What shutdown is waiting for, named when it takes too long and the process exits anyway.
    let step = 'the app (outbox, calls, provider, event hubs)';
    const forced = setTimeout(() => {
      process.stderr.write(`carecomms: shutdown did not finish in 10 s (still waiting for ${step}); exiting\n`);
      process.exit(1);
    }, 10_000);
    forced.unref();
    await app.stop();
    step = 'open HTTP connections';
    await closeServer(server);
    step = 'the database';
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`carecomms: failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
