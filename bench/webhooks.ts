/**
 * Signed webhook ingest: Twilio inbound-SMS webhooks, each with a fresh
 * MessageSid and a valid X-Twilio-Signature, validated and durably written
 * (entry, status event, audit, realtime event) on PostgreSQL — next to a bare
 * node:http server measured in the same run.
 *
 *   npx tsx --conditions=source bench/webhooks.ts
 */
import type autocannon from 'autocannon';
import { twilioSignature } from '../server/src/providers/twilio-signature.js';
import { BENCH_ADMIN_URL, BENCH_TWILIO, bareServer, benchApp, benchDatabase, fmt, load, reqs, twilioBenchEnv, type Section } from './lib.js';

const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
/** Patients the inbound messages come from, round robin. */
const SENDERS = 1000;

export async function benchWebhooks(): Promise<Section> {
  const database = await benchDatabase(BENCH_ADMIN_URL);
  // Nothing is sent during the run; point the client at a closed port all the same.
  const server = await benchApp(database.url, twilioBenchEnv('http://127.0.0.1:9'));
  try {
    const tenant = await server.db.knex('tenants').where({ slug: 'demo-clinic' }).first();
    await server.db.knex.raw(
      `INSERT INTO patients (tenant_id, external_id, name, phone)
       SELECT ?, 'BENCH-' || g, 'Bench Patient ' || g, '+614915' || lpad(g::text, 5, '0') FROM generate_series(1, ?) g`,
      [tenant.id, SENDERS],
    );
    const path = '/webhooks/twilio/sms-inbound';
    let n = 0;
    const requests = [
      {
        method: 'POST' as const,
        path,
        setupRequest: (req: autocannon.Request): autocannon.Request => {
          n += 1;
          const from = `+614915${String(1 + (n % SENDERS)).padStart(5, '0')}`;
          const params = { MessageSid: `SM${String(n).padStart(32, '0')}`, From: from, To: BENCH_TWILIO.phoneNumber, Body: `Bench reply ${n}`, NumMedia: '0' };
          return {
            ...req,
            body: new URLSearchParams(params).toString(),
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              'x-twilio-signature': twilioSignature(BENCH_TWILIO.authToken, BENCH_TWILIO.baseUrl + path, params),
            },
          };
        },
      },
    ];

    const bare = await bareServer();
    const baseline = await load(bare.url, { connections: CONNECTIONS, warmupSeconds: 2 });
    await bare.close();
    const ingest = await load(server.url, { connections: CONNECTIONS, requests, warmupSeconds: 2 });
    const stored = await server.db.knex('correspondence').where({ direction: 'inbound' }).andWhere('body', 'like', 'Bench reply %').count<{ count: string }[]>('id as count');
    const ratio = ingest.requestsPerSecond / baseline.requestsPerSecond;
    return {
      title: 'Signed webhook ingest on PostgreSQL',
      figures: [
        {
          what: `signed inbound SMS webhook (validate + durable write), ${CONNECTIONS} connections`,
          baseline: `bare node:http ${fmt(baseline.requestsPerSecond)} req/s`,
          figure: reqs(ingest),
          ratio: `${ratio.toFixed(3)}×`,
          target: '≥ 0.08× bare, p99 ≤ 20 ms',
          met: ratio >= 0.08 && ingest.p99 <= 20 && ingest.errors + ingest.non2xx === 0,
        },
      ],
      notes: [
        `8 s after 2 s of warm-up, senders spread over ${fmt(SENDERS)} patients; ${stored[0]!.count} inbound entries written for ${n} requests sent (the difference was in flight when the run stopped).`,
        'Per webhook: tenants by number remembered for 5 s, the sender looked up, then BEGIN, one statement writing the entry, its status event and its audit row, the realtime event, COMMIT; NOTIFYs are coalesced after commit.',
      ],
    };
  } finally {
    await server.close();
    await database.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await benchWebhooks(), null, 2));
