/**
 * Soak (issue 8): a sustained mixed load on the real server binary —
 * SMS sends with Idempotency-Keys, signed inbound webhooks, history reads and
 * SSE subscribers — for BENCH_SOAK_SECONDS (default 60), with a SIGKILL and a
 * restart on the same database a third of the way in. Clients retry unanswered
 * requests with the same keys. Reports requests served, errors, messages lost
 * and duplicated (keys acknowledged vs messages the Twilio mock received), and
 * the server's RSS early and late in its life.
 *
 *   npx tsx --conditions=source bench/soak.ts
 */
import { request, Agent } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SessionTokens } from '../server/src/auth/tokens.js';
import { twilioSignature } from '../server/src/providers/twilio-signature.js';
import { startRealServer, type RunningServer } from '../test/e2e/harness.js';
import { BENCH_ADMIN_URL, BENCH_TWILIO, benchDatabase, fmt, rssMiB, twilioBenchEnv, twilioMock, type Section } from './lib.js';

const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 60);
const SENDERS = 4;
const WEBHOOKS = 2;
const READERS = 2;
const SUBSCRIBERS = 50;
const PATIENTS = 200;
const SECRET = 'bench-secret-bench-secret-bench-secret';
const REQUEST_TIMEOUT_MS = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchSoak(): Promise<Section> {
  const database = await benchDatabase(BENCH_ADMIN_URL);
  const mock = await twilioMock();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'carecomms-soak-'));
  const env = {
    ...twilioBenchEnv(mock.url),
    DATABASE_URL: database.url,
    SESSION_SECRET: SECRET,
    LOG_LEVEL: 'error',
    OUTBOX_POLL_MS: '100',
    OUTBOX_RETRY_BASE_MS: '100',
    // A send in flight when the process dies is checked with the provider once its lease ends.
    OUTBOX_LEASE_MS: '3000',
  };
  let server: RunningServer = await startRealServer(env, dataDir);
  const pg = (await import('pg')).default;
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  const counts = { served: 0, errors: 0, unanswered: 0, sends: 0, webhooks: 0, reads: 0, sseEvents: 0, sseReconnects: 0 };
  const errorKinds = new Map<string, number>();
  const acknowledged = new Set<string>();
  const gaveUp = new Set<string>();
  const sseRequests = new Set<ReturnType<typeof request>>();
  let running = true;
  try {
    const tenant = (await db.query(`SELECT id FROM tenants WHERE slug = 'demo-clinic'`)).rows[0].id as string;
    const lee = (await db.query(`SELECT id FROM practitioners WHERE tenant_id = $1 AND external_id = 'dr-lee'`, [tenant])).rows[0].id as string;
    await db.query(
      `INSERT INTO patients (tenant_id, external_id, name, phone) SELECT $1, 'SOAK-' || g, 'Soak Patient ' || g, '+614915' || lpad(g::text, 5, '0') FROM generate_series(1, $2::int) g`,
      [tenant, PATIENTS],
    );
    await db.query(`INSERT INTO patient_access (practitioner_id, patient_id, tenant_id) SELECT $1, id, tenant_id FROM patients WHERE external_id LIKE 'SOAK-%'`, [lee]);
    const patients = (await db.query(`SELECT id, phone FROM patients WHERE external_id LIKE 'SOAK-%' ORDER BY external_id`)).rows as Array<{ id: string; phone: string }>;
    const token = (await new SessionTokens(SECRET).mint(tenant, lee, 3 * 3600)).token;
    const auth = { authorization: `Bearer ${token}` };

    /** One request against whichever process is up; null when unanswered (refused, reset, timed out). */
    const call = async (pathname: string, init: RequestInit): Promise<Response | null> => {
      try {
        const res = await fetch(server.url + pathname, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        await res.arrayBuffer();
        if (res.ok) counts.served += 1;
        else {
          counts.errors += 1;
          errorKinds.set(String(res.status), (errorKinds.get(String(res.status)) ?? 0) + 1);
        }
        return res;
      } catch {
        counts.unanswered += 1;
        return null;
      }
    };

    let keyCounter = 0;
    const sender = async (worker: number) => {
      while (running) {
        const key = `soak-${worker}-${++keyCounter}`;
        const patient = patients[keyCounter % patients.length]!;
        let done = false;
        // Retried with the same key until answered with success (or the run has long ended).
        for (let attempt = 0; attempt < 60 && !done; attempt++) {
          const res = await call(`/api/v1/patients/${patient.id}/messages`, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': key },
            body: JSON.stringify({ body: `soak ${key}` }),
          });
          if (res && res.status === 202) done = true;
          else await sleep(250);
        }
        counts.sends += 1;
        (done ? acknowledged : gaveUp).add(key);
      }
    };
    let sidCounter = 0;
    const webhook = async () => {
      const pathname = '/webhooks/twilio/sms-inbound';
      while (running) {
        const n = ++sidCounter;
        const params = { MessageSid: `SMa${n.toString(16).padStart(31, '0')}`, From: patients[n % patients.length]!.phone, To: BENCH_TWILIO.phoneNumber, Body: `Soak reply ${n}`, NumMedia: '0' };
        const body = new URLSearchParams(params).toString();
        const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(BENCH_TWILIO.authToken, BENCH_TWILIO.baseUrl + pathname, params) };
        for (let attempt = 0; attempt < 60; attempt++) {
          const res = await call(pathname, { method: 'POST', headers, body });
          if (res && res.ok) break;
          await sleep(250);
        }
        counts.webhooks += 1;
      }
    };
    const reader = async () => {
      let n = 0;
      while (running) {
        const res = await call(`/api/v1/correspondence?patientId=${patients[++n % patients.length]!.id}&limit=50`, { headers: auth });
        if (!res) await sleep(250);
        counts.reads += 1;
      }
    };
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    const subscriber = async () => {
      while (running) {
        await new Promise<void>((resolve) => {
          const req = request(`${server.url}/api/v1/events`, { agent, headers: auth }, (res) => {
            res.on('data', (chunk: Buffer) => {
              counts.sseEvents += (chunk.toString().match(/^event: /gm) ?? []).length;
            });
            res.on('end', resolve);
            res.on('error', () => resolve());
            res.on('close', () => resolve());
          });
          sseRequests.add(req);
          req.on('error', () => resolve());
          req.on('close', () => {
            sseRequests.delete(req);
            resolve();
          });
          req.end();
        });
        if (running) {
          counts.sseReconnects += 1;
          await sleep(500);
        }
      }
    };

    const rss: Array<{ when: string; mib: number }> = [];
    const started = performance.now();
    const loops = [
      ...Array.from({ length: SENDERS }, (_, i) => sender(i)),
      ...Array.from({ length: WEBHOOKS }, () => webhook()),
      ...Array.from({ length: READERS }, () => reader()),
      ...Array.from({ length: SUBSCRIBERS }, () => subscriber()),
    ];
    const killAt = (SECONDS * 1000) / 3;
    await sleep(Math.min(5000, killAt / 2));
    rss.push({ when: 'first process, 5 s in', mib: rssMiB(server.process.pid!) });
    await sleep(killAt - (performance.now() - started));
    rss.push({ when: 'first process, before SIGKILL', mib: rssMiB(server.process.pid!) });
    const killed = server;
    killed.process.kill('SIGKILL');
    await new Promise((r) => killed.process.once('exit', r));
    const restartBegan = performance.now();
    for (const req of sseRequests) req.destroy();
    server = await startRealServer(env, dataDir);
    const restartSeconds = (performance.now() - restartBegan) / 1000;
    // Its heap grows to a working size under load first; growth is measured from 10 s in.
    await sleep(10_000);
    const secondPid = server.process.pid!;
    const rssStart = rssMiB(secondPid);
    rss.push({ when: 'second process, 10 s in', mib: rssStart });
    const samples: number[] = [];
    while (performance.now() - started < SECONDS * 1000 - 100) {
      await sleep(Math.min(5000, Math.max(0, SECONDS * 1000 - (performance.now() - started))));
      samples.push(rssMiB(secondPid));
    }
    const rssEnd = rssMiB(secondPid);
    rss.push({ when: 'second process, at the end', mib: rssEnd });
    running = false;
    for (const req of sseRequests) req.destroy();
    await Promise.all(loops);
    const loadSeconds = (performance.now() - started) / 1000;

    // Let the outbox finish what was acknowledged, then compare with what the mock received.
    const drainDeadline = Date.now() + 60_000;
    for (;;) {
      const pending = Number((await db.query(`SELECT count(*) AS n FROM outbox WHERE state = 'pending'`)).rows[0].n);
      if (pending === 0 || Date.now() > drainDeadline) break;
      await sleep(250);
    }
    const deliveries = new Map<string, number>();
    for (const m of mock.messages) if (m.body.startsWith('soak ')) deliveries.set(m.body.slice(5), (deliveries.get(m.body.slice(5)) ?? 0) + 1);
    const lost = [...acknowledged].filter((k) => !deliveries.has(k)).length;
    const duplicated = [...deliveries.values()].filter((n) => n > 1).length;
    const entries = Number((await db.query(`SELECT count(*) AS n FROM correspondence WHERE body LIKE 'soak %'`)).rows[0].n);
    const distinctEntries = Number((await db.query(`SELECT count(DISTINCT body) AS n FROM correspondence WHERE body LIKE 'soak %'`)).rows[0].n);
    const inbound = Number((await db.query(`SELECT count(*) AS n FROM correspondence WHERE body LIKE 'Soak reply %'`)).rows[0].n);
    const distinctInbound = Number((await db.query(`SELECT count(DISTINCT provider_sid) AS n FROM correspondence WHERE body LIKE 'Soak reply %'`)).rows[0].n);
    const growth = (rssEnd - rssStart) / rssStart;
    const errors = [...errorKinds].map(([status, n]) => `${n}× ${status}`).join(', ') || 'none';
    return {
      title: `Soak: ${SECONDS} s mixed load on the real server (PostgreSQL, Twilio mock), SIGKILL + restart at ${Math.round(killAt / 1000)} s`,
      figures: [
        {
          what: `requests answered with success (${SENDERS} senders, ${WEBHOOKS} webhook posters, ${READERS} history readers, ${SUBSCRIBERS} SSE subscribers)`,
          baseline: '—',
          figure: `${fmt(counts.served)} in ${loadSeconds.toFixed(0)} s (${fmt(counts.served / loadSeconds)}/s): ${fmt(acknowledged.size)} sends, ${fmt(counts.webhooks)} webhooks, ${fmt(counts.reads)} reads`,
          ratio: '—',
          target: 'reported',
          met: null,
        },
        {
          what: 'errors answered / requests unanswered (mostly while the server was down; retried)',
          baseline: '—',
          figure: `${fmt(counts.errors)} errors (${errors}); ${fmt(counts.unanswered)} unanswered; restart took ${restartSeconds.toFixed(1)} s`,
          ratio: '—',
          target: 'no 5xx other than 503',
          met: ![...errorKinds.keys()].some((s) => s.startsWith('5') && s !== '503'),
        },
        {
          what: 'SMS lost / duplicated (acknowledged Idempotency-Keys vs messages the Twilio mock received)',
          baseline: `${fmt(acknowledged.size)} keys acknowledged${gaveUp.size ? `, ${gaveUp.size} given up` : ''}`,
          figure: `${lost} lost, ${duplicated} duplicated; ${entries} entries for ${distinctEntries} keys`,
          ratio: '—',
          target: '0 lost, 0 duplicated, one entry per key',
          met: lost === 0 && duplicated === 0 && entries === distinctEntries && gaveUp.size === 0,
        },
        {
          what: 'inbound webhooks stored once each',
          baseline: `${fmt(counts.webhooks)} webhooks posted (retries reuse the MessageSid)`,
          figure: `${inbound} entries for ${distinctInbound} SIDs`,
          ratio: '—',
          target: 'one entry per SID',
          met: inbound === distinctInbound && distinctInbound >= counts.webhooks,
        },
        {
          what: 'server RSS growth under load (second process: 10 s in → end)',
          baseline: `${rssStart.toFixed(1)} MiB`,
          figure: `${rssEnd.toFixed(1)} MiB`,
          ratio: `${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)} %`,
          target: '≤ +20 %',
          met: growth <= 0.2,
        },
      ],
      notes: [
        `RSS: ${rss.map((r) => `${r.when} ${r.mib.toFixed(1)} MiB`).join('; ')}; second process every 5 s from 10 s in: ${samples.map((m) => m.toFixed(0)).join(', ')} MiB. SSE: ${fmt(counts.sseEvents)} events received, ${counts.sseReconnects} reconnect attempts (every 500 ms per subscriber while the server was down). A request unanswered for ${REQUEST_TIMEOUT_MS / 1000} s, refused or reset is retried after 250 ms with the same Idempotency-Key or MessageSid. The outbox lease is 3 s here so that sends in flight at the kill are checked with the mock and retried soon after the restart.`,
      ],
    };
  } finally {
    running = false;
    for (const req of sseRequests) req.destroy();
    await db.end();
    await server.stop('SIGTERM').catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    await mock.close();
    await database.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await benchSoak(), null, 2));
