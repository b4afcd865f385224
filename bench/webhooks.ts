/**
 * Signed webhook ingest: Twilio inbound-SMS webhooks, each with a fresh
 * MessageSid and a valid X-Twilio-Signature, validated and durably written
 * (entry, audit, realtime event) on PostgreSQL — next to a bare node:http
 * server measured in the same run.
 *
 *   npx tsx --conditions=source bench/webhooks.ts
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type autocannon from 'autocannon';
import { createApp } from '../server/src/app.js';
import { loadConfig } from '../server/src/config.js';
import { openDatabase } from '../server/src/db/database.js';
import { seedDemo } from '../server/src/demo/seed.js';
import { createLogger } from '../server/src/logger.js';
import { twilioSignature } from '../server/src/providers/twilio-signature.js';
import { BENCH_ADMIN_URL, bareServer, benchDatabase, load, machine, type LoadResult } from './lib.js';

const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
/** Patients the inbound messages come from, round robin. */
const SENDERS = 1000;
const BASE_URL = 'https://carecomms.example.com';
const AUTH_TOKEN = 'bench-auth-token-0123456789abcdef';

export async function benchWebhooks(): Promise<{ rows: Array<[string, LoadResult, string]>; notes: string[] }> {
  const database = await benchDatabase(BENCH_ADMIN_URL);
  const db = await openDatabase({ url: database.url, poolMax: 10 });
  try {
    await db.knex.migrate.latest();
    const config = loadConfig({
      DEMO: '1',
      SESSION_SECRET: 'bench-secret-bench-secret-bench-secret',
      LOG_LEVEL: 'silent',
      BASE_URL,
      TWILIO_ACCOUNT_SID: 'AC' + 'b'.repeat(32),
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_PHONE_NUMBER: '+61491571266',
      // Nothing is sent during the run; point the client at a closed port all the same.
      TWILIO_API_URL: 'http://127.0.0.1:9',
    });
    const app = createApp({ config, db, logger: createLogger('silent') });
    await seedDemo(db.knex, app.repos, null);
    const tenant = await db.knex('tenants').where({ slug: 'demo-clinic' }).first();
    await db.knex.raw(
      `INSERT INTO patients (tenant_id, external_id, name, phone)
       SELECT ?, 'BENCH-' || g, 'Bench Patient ' || g, '+614915' || lpad(g::text, 5, '0') FROM generate_series(1, ?) g`,
      [tenant.id, SENDERS],
    );
    await app.start();
    const server = createServer(app.koa.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const path = '/webhooks/twilio/sms-inbound';
    let n = 0;
    const requests = [
      {
        method: 'POST' as const,
        path,
        setupRequest: (req: autocannon.Request): autocannon.Request => {
          n += 1;
          const from = `+614915${String(1 + (n % SENDERS)).padStart(5, '0')}`;
          const params = { MessageSid: `SM${String(n).padStart(32, '0')}`, From: from, To: '+61491571266', Body: `Bench reply ${n}`, NumMedia: '0' };
          return {
            ...req,
            body: new URLSearchParams(params).toString(),
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              'x-twilio-signature': twilioSignature(AUTH_TOKEN, BASE_URL + path, params),
            },
          };
        },
      },
    ];

    const bare = await bareServer();
    const baseline = await load(bare.url, { connections: CONNECTIONS });
    const ingest = await load(origin, { connections: CONNECTIONS, requests });
    await bare.close();
    const stored = await db.knex('correspondence').where({ direction: 'inbound' }).andWhere('body', 'like', 'Bench reply %').count<{ count: string }[]>('id as count');
    const unmatched = n - Number(stored[0]!.count);
    await app.stop();
    server.closeAllConnections();
    server.close();
    return {
      rows: [
        ['bare node:http hello (baseline)', baseline, '1×'],
        ['signed inbound SMS webhook: validate + durable write', ingest, `${(ingest.requestsPerSecond / baseline.requestsPerSecond).toFixed(3)}× bare`],
      ],
      notes: [
        `${CONNECTIONS} connections, 8 s each, senders spread over ${SENDERS} patients; ${stored[0]!.count} inbound entries written for ${n} requests sent${unmatched > 0 ? ` (${unmatched} in flight when the run stopped)` : ''}. Machine: ${machine()}.`,
      ],
    };
  } finally {
    await db.close();
    await database.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { rows, notes } = await benchWebhooks();
  for (const [what, r, ratio] of rows) console.log(`${what}: ${r.requestsPerSecond} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${ratio}, errors ${r.errors + r.non2xx}`);
  for (const note of notes) console.log(note);
}
