/**
 * History page benchmark: the latest 50 entries for one patient, the latest 50
 * across a practitioner's 1,000 patients, and page 1,000 of that list by
 * cursor, among 1,000,000 correspondence rows on PostgreSQL — next to a bare
 * node:http server measured in the same run.
 *
 *   npx tsx --conditions=source bench/history.ts
 *
 * Creates (and afterwards drops, unless BENCH_KEEP=1) its own database. ROWS overrides the row count.
 */
import { fileURLToPath } from 'node:url';
import { encodeCursor } from '../server/src/repositories/cursor.js';
import { BENCH_ADMIN_URL, bareServer, bareSqlServer, benchApp, benchDatabase, capturedStatements, demoToken, fmt, load, reqs, settle, type Section } from './lib.js';

const ROWS = Number(process.env.ROWS ?? 1_000_000);
const PATIENTS = 1000;
const PAGE = 50;
const DEEP_PAGE = 1000;
/**
 * As for webhook ingest (the load for it): at 10 connections this
 * server sat about 30 % idle on 2 cores, each request waiting its turn
 * through load generator, Node and PostgreSQL, so throughput measured
 * round trips rather than capacity. One patient's page is also loaded at 10.
 */
const CONNECTIONS = 50;
const FEW_CONNECTIONS = 10;

export async function benchHistory(): Promise<Section> {
  const database = await benchDatabase(BENCH_ADMIN_URL);
  const server = await benchApp(database.url);
  const knex = server.db.knex;
  try {
    const tenant = await knex('tenants').where({ slug: 'demo-clinic' }).first();
    const lee = await knex('practitioners').where({ tenant_id: tenant.id, external_id: 'dr-lee' }).first();

    const seedStart = performance.now();
    await knex.raw(
      `INSERT INTO patients (tenant_id, external_id, name, phone)
       SELECT ?, 'BENCH-' || g, 'Bench Patient ' || g, '+6149157' || lpad(g::text, 4, '0') FROM generate_series(1, ?) g`,
      [tenant.id, PATIENTS],
    );
    await knex.raw(
      `INSERT INTO patient_access (practitioner_id, patient_id, tenant_id) SELECT ?, id, tenant_id FROM patients WHERE tenant_id = ?
       ON CONFLICT DO NOTHING`,
      [lee.id, tenant.id],
    );
    await knex.raw(
      `INSERT INTO correspondence (tenant_id, patient_id, practitioner_id, channel, direction, status, body, contact, created_at, updated_at)
       SELECT ?, p.ids[1 + (g % ?)], ?, (ARRAY['sms','email','voice','video'])[1 + g % 4], 'outbound', 'delivered',
              'Benchmark message ' || g, '+61491570006', now() - (g || ' seconds')::interval, now()
       FROM generate_series(1, ?) g, (SELECT array_agg(id) AS ids FROM patients WHERE external_id LIKE 'BENCH-%') p`,
      [tenant.id, PATIENTS, lee.id, ROWS],
    );
    await settle(knex);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const patient = await knex('patients').where({ tenant_id: tenant.id, external_id: 'BENCH-1' }).first();
    // The cursor a client holds after reading 999 pages of the practitioner's list (newest first).
    const deep = await knex.raw(
      `SELECT to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, c.id FROM correspondence c
       WHERE c.tenant_id = ? AND EXISTS (SELECT 1 FROM patient_access a WHERE a.patient_id = c.patient_id AND a.practitioner_id = ?)
       ORDER BY c.created_at DESC, c.id DESC OFFSET ? LIMIT 1`,
      [tenant.id, lee.id, (DEEP_PAGE - 1) * PAGE - 1],
    );
    const deepCursor = encodeCursor([deep.rows[0].at, deep.rows[0].id]);

    const token = await demoToken(server.url);
    // What Chromium sends: the EHR page's widget asks for its history through the browser's fetch.
    const headers = { authorization: `Bearer ${token}`, 'accept-encoding': 'gzip, deflate, br, zstd' };
    // The deep page really is page 1,000: it holds rows 49,951–50,000 of the list.
    const check = await (await fetch(`${server.url}/api/v1/correspondence?limit=${PAGE}&cursor=${encodeURIComponent(deepCursor)}`, { headers })).json();
    if (check.items?.length !== PAGE) throw new Error(`deep page has ${check.items?.length} items`);

    const perPatientUrl = `${server.url}/api/v1/correspondence?patientId=${patient.id}&limit=${PAGE}`;
    // The one statement a warm history request sends (page and audit rows), to replay from a bare handler.
    await fetch(perPatientUrl, { headers });
    const [statement, ...others] = await capturedStatements(knex, () => fetch(perPatientUrl, { headers }).then((r) => r.json()));
    if (!statement || others.length > 0) throw new Error(`a warm history request sent ${others.length + 1} statements`);

    const bare = await bareServer();
    const baseline = await load(bare.url, { connections: CONNECTIONS, warmupSeconds: 2 });
    const fewBaseline = await load(bare.url, { connections: FEW_CONNECTIONS, warmupSeconds: 2 });
    await bare.close();
    const bareSql = await bareSqlServer(database.url, [statement]);
    const ceiling = await load(bareSql.url, { connections: CONNECTIONS, warmupSeconds: 2 });
    await bareSql.close();
    const perPatient = await load(perPatientUrl, { headers, connections: CONNECTIONS, warmupSeconds: 2 });
    const perPatientFew = await load(perPatientUrl, { headers, connections: FEW_CONNECTIONS, warmupSeconds: 2 });
    const overall = await load(`${server.url}/api/v1/correspondence?limit=${PAGE}`, { headers, connections: CONNECTIONS, warmupSeconds: 2 });
    // Every request another patient's page, round robin over all 1,000 (see history-request.cjs).
    process.env.BENCH_HISTORY = JSON.stringify({
      path: `/api/v1/correspondence?limit=${PAGE}`,
      patientIds: (await knex('patients').where({ tenant_id: tenant.id }).andWhere('external_id', 'like', 'BENCH-%').pluck('id')) as string[],
    });
    const setupRequest = fileURLToPath(new URL('./history-request.cjs', import.meta.url));
    const cycling = await load(server.url, { headers, connections: CONNECTIONS, requests: [{ method: 'GET', setupRequest }], warmupSeconds: 2 });
    const deepPage = await load(`${server.url}/api/v1/correspondence?limit=${PAGE}&cursor=${encodeURIComponent(deepCursor)}`, { headers, connections: CONNECTIONS, warmupSeconds: 2 });

    const ratio = (r: { requestsPerSecond: number }) => r.requestsPerSecond / baseline.requestsPerSecond;
    const bareText = `bare node:http ${fmt(baseline.requestsPerSecond)} req/s`;
    const slowdown = overall.requestsPerSecond / deepPage.requestsPerSecond;
    return {
      title: `History page on PostgreSQL (${fmt(ROWS)} rows)`,
      figures: [
        {
          what: `latest 50 for one patient, ${CONNECTIONS} connections`,
          baseline: bareText,
          figure: reqs(perPatient),
          ratio: `${ratio(perPatient).toFixed(3)}×`,
          target: '≥ 0.10× bare, p99 ≤ 25 ms',
          met: ratio(perPatient) >= 0.1 && perPatient.p99 <= 25 && perPatient.errors + perPatient.non2xx === 0,
        },
        {
          what: `latest 50 for one patient, ${FEW_CONNECTIONS} connections (round trips rather than capacity: see the notes)`,
          baseline: `bare node:http ${fmt(fewBaseline.requestsPerSecond)} req/s at ${FEW_CONNECTIONS} connections`,
          figure: reqs(perPatientFew),
          ratio: `${(perPatientFew.requestsPerSecond / fewBaseline.requestsPerSecond).toFixed(3)}×`,
          target: '—',
          met: null,
        },
        {
          what: 'the same statement (a page read before: the patient\'s history version, name and grant, compared with those it was last answered at; its audit row), one per request, from a bare node:http handler on pg, its row sent as JSON: what the database allows here without batching',
          baseline: bareText,
          figure: reqs(ceiling),
          ratio: `${ratio(ceiling).toFixed(3)}×`,
          target: '—',
          met: null,
        },
        {
          what: `latest 50 for one patient, each request the next of ${fmt(PATIENTS)} patients (${fmt(PATIENTS * PAGE)} entries cycle through renderings kept for about half as many, so each page is rendered afresh)`,
          baseline: bareText,
          figure: reqs(cycling),
          ratio: `${ratio(cycling).toFixed(3)}×`,
          target: '—',
          met: null,
        },
        {
          what: `latest 50 across the practitioner's ${fmt(PATIENTS)} patients, ${CONNECTIONS} connections`,
          baseline: bareText,
          figure: reqs(overall),
          ratio: `${ratio(overall).toFixed(3)}×`,
          target: '≥ 0.10× bare, p99 ≤ 25 ms',
          met: ratio(overall) >= 0.1 && overall.p99 <= 25 && overall.errors + overall.non2xx === 0,
        },
        {
          what: `page ${fmt(DEEP_PAGE)} of that list, by cursor`,
          baseline: `first page ${fmt(overall.requestsPerSecond)} req/s`,
          figure: reqs(deepPage),
          ratio: `first page ÷ deep = ${slowdown.toFixed(2)}`,
          target: 'within 1.5× of the first page',
          met: slowdown <= 1.5 && deepPage.errors + deepPage.non2xx === 0,
        },
      ],
      notes: [
        `Seeded ${fmt(ROWS)} rows over ${fmt(PATIENTS)} patients in ${seedSeconds.toFixed(1)} s. ${CONNECTIONS} connections unless a line says otherwise, the load the issue sets for webhook ingest, for the bare baseline as for the app; 8 s each after 2 s of warm-up; autocannon generates the load from a process of its own, which runs the warm-up and then the measured run (as for the baseline). At ${FEW_CONNECTIONS} connections this server sat about 30 % idle on 2 cores (measured from /proc/stat): each request waits its turn through the load generator, Node and PostgreSQL, so that line measures round trips rather than what the server can take; the bare baseline is CPU-bound at either.`,
        `Per request: the session token's signature is checked once per token (then remembered until it expires), the session's practitioner check is remembered for 5 s, then one statement, shared by the history reads of the same shape that arrived in the same turn of the event loop (16 at most, so that a large turn is split over sessions running at once), reads each page (access folded in: an empty page alone asks whether the patient is visible) and writes its audit rows, with synchronous_commit off. Entries are rendered as API JSON by the database and kept by row version, about 25,000 of them (16 MiB of JSON); each page's last answer is kept too (16 MiB). Answers go to the client compressed (Brotli, quality 1: a page of 29 KB of JSON is about 2 KB), each kept answer compressed once. A page of one patient's read again is first checked by the patient's history version (a counter the database moves, by statement triggers, on every insert, update or delete of that patient's entries, whoever writes it), name and the practitioner's grant, read on that request: when none moved, its entries are not read at all and the same bytes are sent again. Otherwise, and for pages across patients every time, a page read again is read as its listing alone (each entry's id and row version, and its patients' names, as one row): when the listing is the one last answered, the same bytes are sent again; otherwise entries kept in the listed version are reused and a second statement renders the others. Any other page is rendered in its one statement. The first three loads read the same pages again, as an EHR page reloading the widget does, so their entries come from what was kept; the round-robin line shows pages rendered afresh every time. The bare-handler line replays that statement for one read, captured from the app, one per request, with its pg pool (10) and no framework: what one PostgreSQL round trip per page costs on this machine; our app above it is batching's gain net of what Koa, auth and validation cost.`,
      ],
    };
  } finally {
    await server.close();
    await database.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await benchHistory(), null, 2));
