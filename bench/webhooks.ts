/**
 * Signed webhook ingest: Twilio inbound-SMS webhooks, each with a fresh
 * MessageSid and a valid X-Twilio-Signature, validated and durably written
 * (entry, status event, audit, realtime event) on PostgreSQL — next to a bare
 * node:http server measured in the same run.
 *
 *   npx tsx --conditions=source bench/webhooks.ts
 */
import { fileURLToPath } from 'node:url';
import { twilioSignature } from '../server/src/providers/twilio-signature.js';
import { BENCH_ADMIN_URL, BENCH_TWILIO, bareServer, bareSqlServer, benchApp, benchDatabase, capturedStatements, fmt, load, pacedLoad, percentile, reqs, type PacedResult, serverTimings, settle, twilioBenchEnv, type Section } from './lib.js';

const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
/** Patients the inbound messages come from, round robin. */
const SENDERS = 1000;
/** Entries each of them already has when the run starts. */
const HISTORY_PER_SENDER = 100;
/** Sender k's number (1 ≤ k ≤ SENDERS): this prefix, then k in five digits (inbound-sms-request.cjs spells them so too). */
const SENDER_PREFIX = '+614915';
const senderPhone = (k: number) => `${SENDER_PREFIX}${String(k).padStart(5, '0')}`;
/** The first sender: the captured statement's, replaced in each replay by the next sender. */
const SAMPLE_SENDER = senderPhone(1);
/** The throughput the issue asks of signed webhook ingest, as a share of the bare baseline. */
const TARGET_RATIO = 0.08;
/** Paced runs at the target's rate; the median (by p99) is reported. */
const PACED_RUNS = 3;

export async function benchWebhooks(): Promise<Section> {
  const database = await benchDatabase(BENCH_ADMIN_URL);
  // Nothing is sent during the run; point the client at a closed port all the same.
  const server = await benchApp(database.url, twilioBenchEnv('http://127.0.0.1:9'));
  try {
    const tenant = await server.db.knex('tenants').where({ slug: 'demo-clinic' }).first();
    await server.db.knex.raw(
      `INSERT INTO patients (tenant_id, external_id, name, phone)
       SELECT ?, 'BENCH-' || g, 'Bench Patient ' || g, ? || lpad(g::text, 5, '0') FROM generate_series(1, ?) g`,
      [tenant.id, SENDER_PREFIX, SENDERS],
    );
    // A clinic that has been running: earlier history for every sender, and statistics PostgreSQL has gathered
    // on it (as autovacuum does within a minute of a table's growth). Without them, each pool connection keeps
    // the foreign-key check plans it made while the tables were empty: sequential scans of a growing table.
    await server.db.knex.raw(
      `INSERT INTO correspondence (tenant_id, patient_id, channel, direction, status, body, contact, provider_sid, created_at, updated_at)
       SELECT p.tenant_id, p.id, 'sms', CASE WHEN g % 2 = 0 THEN 'outbound' ELSE 'inbound' END, 'delivered', 'Earlier message ' || g, p.phone,
              'SM' || md5(p.id::text || g), now() - (g || ' hours')::interval, now() - (g || ' hours')::interval
       FROM patients p, generate_series(1, ?) g WHERE p.tenant_id = ? AND p.external_id LIKE 'BENCH-%'`,
      [HISTORY_PER_SENDER, tenant.id],
    );
    await settle(server.db.knex);
    const path = '/webhooks/twilio/sms-inbound';
    const inboundStored = async () =>
      Number((await server.db.knex('correspondence').where({ direction: 'inbound' }).andWhere('body', 'like', 'Bench reply %').count<{ count: string }[]>('id as count'))[0]!.count);
    // Requests are made and signed in the load generator's process, ahead of its warm-up (see inbound-sms-request.cjs), not the server's.
    process.env.BENCH_INBOUND_SMS = JSON.stringify({
      authToken: BENCH_TWILIO.authToken,
      url: BENCH_TWILIO.baseUrl + path,
      to: BENCH_TWILIO.phoneNumber,
      senders: SENDERS,
      senderPrefix: SENDER_PREFIX,
    });
    const requests = [{ method: 'POST' as const, path, setupRequest: fileURLToPath(new URL('./inbound-sms-request.cjs', import.meta.url)) }];

    // The statements one warm inbound webhook sends (the coalesced NOTIFY aside), to replay from a bare handler.
    const post = (sid: string) => {
      const params = { MessageSid: sid, From: SAMPLE_SENDER, To: BENCH_TWILIO.phoneNumber, Body: 'Bench reply', NumMedia: '0' };
      return fetch(server.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(BENCH_TWILIO.authToken, BENCH_TWILIO.baseUrl + path, params) },
        body: new URLSearchParams(params).toString(),
      }).then((r) => r.text());
    };
    await post(`SM${'e'.repeat(32)}`);
    const sampleSid = `SM${'f'.repeat(32)}`;
    const statements = (await capturedStatements(server.db.knex, () => post(sampleSid))).filter((s) => !/pg_notify/.test(s.sql));
    const carriesSid = (b: unknown) => typeof b === 'string' && b.includes(sampleSid);
    if (!statements.some((s) => s.bindings.some(carriesSid))) throw new Error('no captured statement writes the MessageSid');

    const bare = await bareServer();
    const baseline = await load(bare.url, { connections: CONNECTIONS, warmupSeconds: 2 });
    await bare.close();
    // Latency at the load the target asks the server to carry (0.08× bare), offered evenly over the same connections,
    // before anything else writes to this database (the bare-handler and closed-loop lines below add about 40,000
    // rows, which sets autovacuum to work). Three runs: one run's p99 moved by half between runs on a quiet machine.
    const targetRate = Math.ceil(TARGET_RATIO * baseline.requestsPerSecond);
    const pacedRuns: PacedResult[] = [];
    for (let run = 0; run < PACED_RUNS; run += 1) {
      pacedRuns.push(await pacedLoad(server.url, { connections: CONNECTIONS, rate: targetRate, warmupSeconds: 2, request: requests[0]! }));
    }
    const paced = [...pacedRuns].sort((a, b) => a.p99 - b.p99)[Math.floor(PACED_RUNS / 2)]!;
    const pacedStored = await inboundStored();
    const bareSql = await bareSqlServer(database.url, statements, {
      // A fresh MessageSid each, and senders round robin as in the app's load: one sender for all would queue
      // every statement behind the last on that patient's history version.
      vary: (bindings, n) =>
        bindings.map((b) =>
          carriesSid(b)
            ? (b as string)
                .replaceAll(sampleSid, `SM${'a'.repeat(16)}${n.toString(16).padStart(16, '0')}`)
                .replaceAll(SAMPLE_SENDER, senderPhone(1 + (n % SENDERS)))
            : b,
        ),
    });
    // The same signed POSTs, so the load generator costs what it costs against the app.
    const ceiling = await load(bareSql.url.replace(/\/$/, ''), { connections: CONNECTIONS, requests, warmupSeconds: 2 });
    await bareSql.close();
    const timings = serverTimings();
    const ingest = await load(server.url, { connections: CONNECTIONS, requests, warmupSeconds: 2 });
    // Answers sent during the measured run, as the load generator's figures are (not during its warm-up).
    const inServer = timings.stop().filter((t) => performance.timeOrigin + t.at >= ingest.measuredFrom).map((t) => t.ms);
    const stored = (await inboundStored()) - pacedStored;
    const ratio = ingest.requestsPerSecond / baseline.requestsPerSecond;
    return {
      title: 'Signed webhook ingest on PostgreSQL',
      figures: [
        {
          what: `signed inbound SMS webhook (validate + durable write), ${CONNECTIONS} connections`,
          baseline: `bare node:http ${fmt(baseline.requestsPerSecond)} req/s`,
          figure: reqs(ingest),
          ratio: `${ratio.toFixed(3)}×`,
          target: '≥ 0.08× bare (its p99 is reported: at saturation, a closed loop of 50 waits 50 ÷ throughput on average)',
          met: ratio >= TARGET_RATIO && ingest.errors + ingest.non2xx === 0,
        },
        {
          what: `the same webhooks offered at the target's rate, 0.08× bare (${fmt(targetRate)}/s), paced evenly over ${CONNECTIONS} connections (open loop); latency from each request's due time; median of ${PACED_RUNS} runs by p99`,
          baseline: `bare node:http ${fmt(baseline.requestsPerSecond)} req/s`,
          figure: `${fmt(paced.requestsPerSecond)} req/s answered, p50 ${paced.p50} ms, p99 ${paced.p99} ms, max ${paced.max} ms${paced.errors + paced.non2xx ? `, ${paced.errors + paced.non2xx} errors` : ''}`,
          ratio: `${(paced.requestsPerSecond / baseline.requestsPerSecond).toFixed(3)}×`,
          target: 'p99 ≤ 20 ms at 50 connections',
          met: paced.p99 <= 20 && paced.requestsPerSecond >= targetRate * 0.98 && paced.errors + paced.non2xx === 0,
        },
        {
          what: "the same webhooks timed inside the server, from each request's headers parsed to its answer sent (without the time in the load generator, which shares the 2 cores, or the bytes waiting in a socket for the server to read them)",
          baseline: '—',
          figure: `p50 ${inServer.length ? percentile(inServer, 50).toFixed(1) : '—'} ms, p99 ${inServer.length ? percentile(inServer, 99).toFixed(1) : '—'} ms (${fmt(inServer.length)} answers)`,
          ratio: '—',
          target: '—',
          met: null,
        },
        {
          what: `the same ${statements.length === 1 ? 'statement' : `${statements.length} statements`} (sender lookup, entry, status event, audit, realtime event), one per webhook, from a bare node:http handler on pg: what the database allows without batching`,
          baseline: `bare node:http ${fmt(baseline.requestsPerSecond)} req/s`,
          figure: reqs(ceiling),
          ratio: `${(ceiling.requestsPerSecond / baseline.requestsPerSecond).toFixed(3)}×`,
          target: '—',
          met: null,
        },
      ],
      notes: [
        `8 s after 2 s of warm-up, requests made and signed in the load generator's process before its warm-up, senders spread over ${fmt(SENDERS)} patients with ${fmt(HISTORY_PER_SENDER)} earlier entries each (${fmt(SENDERS * HISTORY_PER_SENDER)} rows, then VACUUM ANALYZE and a CHECKPOINT, to a running clinic's database's state: see settle() in bench/lib.ts); ${fmt(stored)} inbound entries written for ${fmt(ingest.sent)} requests sent (warm-up included) (the difference was in flight when the run stopped).`,
        `The paced line: the same signed webhooks (the database's first load), ${fmt(targetRate)} a second (the target's 0.08× of this run's bare baseline) over ${CONNECTIONS} keep-alive connections, each connection sending one every ${((CONNECTIONS / targetRate) * 1000).toFixed(1)} ms on a schedule staggered from the others' (bench/paced-load.mjs), 8 s after 2 s of warm-up; a request's latency runs from when it was due, so one held back behind a slow answer on its connection is charged the wait (as wrk2 measures, against coordinated omission). This is latency at the load the target sets, as a webhook provider offers it: Twilio posts when messages arrive, not when the last answer came. The closed-loop line above measures capacity instead: each of its 50 connections sends as soon as it is answered, so at saturation a webhook waits about 50 ÷ throughput whatever the server does, and its p99 falls to 20 ms only past about 5,000 webhooks a second on this machine. Each run's p99: ${pacedRuns.map((r) => `${r.p99} ms`).join(', ')} (p50 ${pacedRuns.map((r) => `${r.p50} ms`).join(', ')}); the line shows the median run. ${fmt(pacedStored)} inbound entries written for ${fmt(pacedRuns.reduce((n, r) => n + r.sent, 0))} paced requests sent (warm-ups included), every one answered before the next run.`,
        'Per webhook: tenants by number remembered for 5 s; then the plain replies that arrived in the same turn of the event loop, or while the statement before them ran (one runs at a time), are written by one statement (atomic by itself, no BEGIN / COMMIT, one durable commit for the lot) that looks each sender up and writes each entry, its status event, its audit row and its realtime event; each webhook is answered once that commit is durable; NOTIFYs are coalesced after commit, at most one every 10 ms. The bare-handler line replays that statement for one webhook, captured from the app, with a fresh MessageSid and the next of the same senders each, on a pg pool of 10, for the same signed POSTs, without reading their bodies or checking their signatures.',
      ],
    };
  } finally {
    await server.close();
    await database.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await benchWebhooks(), null, 2));
