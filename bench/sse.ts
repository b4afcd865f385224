/**
 * SSE fan-out: 1,000 event streams open on the real server process (PostgreSQL),
 * held by practitioners who may see a patient and by some who may not (of the
 * same clinic and of another). One entry is logged for that patient: how long
 * until every allowed stream has it, whether any other stream got it, and the
 * server's memory per idle stream.
 *
 *   npx tsx --conditions=source bench/sse.ts
 */
import { request, Agent } from 'node:http';
import { randomBytes } from 'node:crypto';
import { hashApiKey, SessionTokens } from '../server/src/auth/tokens.js';
import { startRealServer } from '../test/e2e/harness.js';
import { BENCH_ADMIN_URL, benchDatabase, fmt, percentile, rssMiB, type Section } from './lib.js';

const SESSIONS = Number(process.env.BENCH_SSE_SESSIONS ?? 1000);
const SECRET = 'bench-secret-bench-secret-bench-secret';

interface Stream {
  allowed: boolean;
  gotAt: number | null;
  close(): void;
}

function openStream(url: string, token: string, agent: Agent, marker: string, allowed: boolean): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const stream: Stream = { allowed, gotAt: null, close: () => req.destroy() };
    const req = request(`${url}/api/v1/events`, { agent, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`events: ${res.statusCode}`));
      let buffer = '';
      let connected = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        if (!connected && buffer.includes(': connected')) {
          connected = true;
          resolve(stream);
        }
        if (stream.gotAt === null && buffer.includes(marker)) stream.gotAt = performance.now();
        if (buffer.length > 65536) buffer = buffer.slice(-1024);
      });
      res.on('error', () => undefined);
    });
    req.on('error', (error) => (stream.gotAt === null ? reject(error) : undefined));
    req.end();
  });
}

export async function benchSse(): Promise<Section> {
  const database = await benchDatabase(BENCH_ADMIN_URL);
  const server = await startRealServer({ DATABASE_URL: database.url, SESSION_SECRET: SECRET, LOG_LEVEL: 'error' });
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const streams: Stream[] = [];
  try {
    const tenant = (await client.query(`SELECT id FROM tenants WHERE slug = 'demo-clinic'`)).rows[0].id as string;
    const other = (await client.query(`SELECT id FROM tenants WHERE slug <> 'demo-clinic' ORDER BY created_at LIMIT 1`)).rows[0].id as string;
    const patient = (await client.query(`SELECT id, external_id FROM patients WHERE tenant_id = $1 ORDER BY external_id LIMIT 1`, [tenant])).rows[0];
    const apiKey = `cck_${randomBytes(24).toString('base64url')}`;
    await client.query(`UPDATE tenants SET api_key_hash = $1 WHERE id = $2`, [hashApiKey(apiKey), tenant]);
    // 100 practitioners of the clinic, 70 with a grant for the patient; 10 of another clinic.
    const mine = (
      await client.query(
        `INSERT INTO practitioners (tenant_id, external_id, name) SELECT $1, 'bench-' || g, 'Bench Practitioner ' || g FROM generate_series(1, 100) g RETURNING id`,
        [tenant],
      )
    ).rows.map((r) => r.id as string);
    const granted = mine.slice(0, 70);
    await client.query(`INSERT INTO patient_access (practitioner_id, patient_id, tenant_id) SELECT unnest($1::uuid[]), $2, $3`, [granted, patient.id, tenant]);
    const foreign = (
      await client.query(`INSERT INTO practitioners (tenant_id, external_id, name) SELECT $1, 'bench-' || g, 'Other ' || g FROM generate_series(1, 10) g RETURNING id`, [other])
    ).rows.map((r) => r.id as string);

    const tokens = new SessionTokens(SECRET);
    const people: Array<{ tenant: string; id: string; allowed: boolean }> = [];
    for (let i = 0; i < SESSIONS; i++) {
      if (i % 10 === 9) people.push({ tenant: other, id: foreign[i % foreign.length]!, allowed: false });
      else {
        const id = mine[i % mine.length]!;
        people.push({ tenant, id, allowed: granted.includes(id) });
      }
    }
    const marker = `fan-out ${randomBytes(6).toString('hex')}`;
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    await new Promise((r) => setTimeout(r, 1500));
    const pid = server.process.pid!;
    const rssBefore = rssMiB(pid);
    for (let i = 0; i < people.length; i += 50) {
      const batch = await Promise.all(
        people.slice(i, i + 50).map(async (p) => openStream(server.url, (await tokens.mint(p.tenant, p.id, 3600)).token, agent, marker, p.allowed)),
      );
      streams.push(...batch);
    }
    await new Promise((r) => setTimeout(r, 3000));
    const rssIdle = rssMiB(pid);

    const sent = performance.now();
    const res = await fetch(`${server.url}/api/v1/admin/correspondence`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ patient: patient.external_id, channel: 'email', direction: 'outbound', body: marker }),
    });
    if (res.status !== 201 && res.status !== 200) throw new Error(`admin correspondence: ${res.status} ${await res.text()}`);
    const answered = performance.now() - sent;
    const allowed = streams.filter((s) => s.allowed);
    const deadline = Date.now() + 10_000;
    while (allowed.some((s) => s.gotAt === null) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 500)); // time for a wrongly sent event to arrive too
    const latencies = allowed.filter((s) => s.gotAt !== null).map((s) => s.gotAt! - sent);
    const missed = allowed.length - latencies.length;
    const leaked = streams.filter((s) => !s.allowed && s.gotAt !== null).length;
    const p99 = percentile(latencies, 99);
    return {
      title: `SSE fan-out (${fmt(SESSIONS)} streams, real server process, PostgreSQL)`,
      figures: [
        {
          what: `one write reaches every allowed stream (${allowed.length} allowed of ${streams.length})`,
          baseline: '—',
          figure: `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, last ${Math.max(...latencies).toFixed(1)} ms; ${missed} missed`,
          ratio: '—',
          target: 'p99 ≤ 200 ms, none missed',
          met: p99 <= 200 && missed === 0,
        },
        {
          what: `streams that may not see the patient (${streams.length - allowed.length}: same clinic without a grant, other clinic) that got it`,
          baseline: '—',
          figure: String(leaked),
          ratio: '—',
          target: '0',
          met: leaked === 0,
        },
        {
          what: 'server memory per idle stream (RSS delta ÷ streams)',
          baseline: `RSS ${rssBefore.toFixed(1)} MiB with no stream`,
          figure: `${(((rssIdle - rssBefore) * 1024) / streams.length).toFixed(1)} KiB per stream (RSS ${rssIdle.toFixed(1)} MiB)`,
          ratio: '—',
          target: 'reported',
          met: null,
        },
      ],
      notes: [
        `Latency is from sending POST /api/v1/admin/correspondence (answered after ${answered.toFixed(1)} ms) to each stream reading the event, timed in the bench process (which also holds all ${streams.length} client sockets). 110 practitioners: 70 granted, 30 of the clinic not granted, 10 of another clinic; 9 or 10 streams each.`,
      ],
    };
  } finally {
    for (const s of streams) s.close();
    await client.end();
    await server.stop('SIGTERM');
    await database.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await benchSse(), null, 2));
