/**
 * History page benchmark: the latest 50 entries for one patient, and the latest
 * 50 across a practitioner's patients, among 1,000,000 correspondence rows on
 * PostgreSQL — next to a bare node:http server measured in the same run.
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx --conditions=source bench/history.ts
 *
 * Creates (and afterwards drops, unless BENCH_KEEP=1) its own database. ROWS overrides the row count.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createApp } from '../server/src/app.js';
import { loadConfig } from '../server/src/config.js';
import { openDatabase } from '../server/src/db/database.js';
import { seedDemo } from '../server/src/demo/seed.js';
import { createLogger } from '../server/src/logger.js';
import { bareServer, load, machine, type LoadResult } from './lib.js';

const ROWS = Number(process.env.ROWS ?? 1_000_000);
const PATIENTS = 1000;
const adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function benchHistory(): Promise<{ rows: Array<[string, LoadResult, string]>; notes: string[] }> {
  const name = `carecomms_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase({ url: url.toString(), poolMax: 10 });
  try {
    await db.knex.migrate.latest();
    const config = loadConfig({ DEMO: '1', SESSION_SECRET: 'bench-secret-bench-secret-bench-secret', LOG_LEVEL: 'silent' });
    const app = createApp({ config, db, logger: createLogger('silent') });
    await seedDemo(db.knex, app.repos, null);
    const tenant = await db.knex('tenants').where({ slug: 'demo-clinic' }).first();
    const lee = await db.knex('practitioners').where({ tenant_id: tenant.id, external_id: 'dr-lee' }).first();

    const seedStart = performance.now();
    await db.knex.raw(
      `INSERT INTO patients (tenant_id, external_id, name, phone)
       SELECT ?, 'BENCH-' || g, 'Bench Patient ' || g, '+6149157' || lpad(g::text, 4, '0') FROM generate_series(1, ?) g`,
      [tenant.id, PATIENTS],
    );
    await db.knex.raw(
      `INSERT INTO patient_access (practitioner_id, patient_id, tenant_id) SELECT ?, id, tenant_id FROM patients WHERE tenant_id = ?
       ON CONFLICT DO NOTHING`,
      [lee.id, tenant.id],
    );
    await db.knex.raw(
      `INSERT INTO correspondence (tenant_id, patient_id, practitioner_id, channel, direction, status, body, contact, created_at, updated_at)
       SELECT ?, p.ids[1 + (g % ?)], ?, (ARRAY['sms','email','voice','video'])[1 + g % 4], 'outbound', 'delivered',
              'Benchmark message ' || g, '+61491570006', now() - (g || ' seconds')::interval, now()
       FROM generate_series(1, ?) g, (SELECT array_agg(id) AS ids FROM patients WHERE external_id LIKE 'BENCH-%') p`,
      [tenant.id, PATIENTS, lee.id, ROWS],
    );
    await db.knex.raw('ANALYZE');
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const patient = await db.knex('patients').where({ tenant_id: tenant.id, external_id: 'BENCH-1' }).first();

    await app.start();
    const server = createServer(app.koa.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { token } = await (await fetch(`${base}/demo/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json();
    const headers = { authorization: `Bearer ${token}` };

    const bare = await bareServer();
    const baseline = await load(bare.url);
    const perPatient = await load(`${base}/api/v1/correspondence?patientId=${patient.id}&limit=50`, { headers });
    const overall = await load(`${base}/api/v1/correspondence?limit=50`, { headers });
    await bare.close();
    await app.stop();
    server.closeAllConnections();
    server.close();

    const ratio = (r: LoadResult) => `${(r.requestsPerSecond / baseline.requestsPerSecond).toFixed(3)}× bare`;
    return {
      rows: [
        ['bare node:http hello (baseline)', baseline, '1×'],
        [`latest 50 for one patient (of ${ROWS.toLocaleString('en')} rows)`, perPatient, ratio(perPatient)],
        [`latest 50 across the practitioner's ${PATIENTS} patients`, overall, ratio(overall)],
      ],
      notes: [`Seeded ${ROWS.toLocaleString('en')} rows in ${seedSeconds.toFixed(1)} s. 10 connections, 8 s each. Machine: ${machine()}.`],
    };
  } finally {
    await db.close();
    if (!process.env.BENCH_KEEP) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    else console.log(`kept database ${name}`);
    await admin.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { rows, notes } = await benchHistory();
  for (const [what, r, ratio] of rows) console.log(`${what}: ${r.requestsPerSecond} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${ratio}, errors ${r.errors + r.non2xx}`);
  for (const note of notes) console.log(note);
}
