/**
 * Outbox throughput: SMS already queued (entry + outbox row, as a send leaves
 * them) handed to the sandbox provider by two workers — two app instances on
 * one PostgreSQL database, sharing the queue through SKIP LOCKED — and whether
 * any message was handed over twice or not at all.
 *
 *   npx tsx --conditions=source bench/outbox.ts
 */
import { BENCH_ADMIN_URL, benchApp, benchDatabase, fmt, type BenchApp, type Section } from './lib.js';

const MESSAGES = Number(process.env.BENCH_OUTBOX_MESSAGES ?? 5000);
const CONCURRENCY = process.env.OUTBOX_CONCURRENCY ?? '16';
const PATIENTS = 1000;

export async function benchOutbox(): Promise<Section> {
  const database = await benchDatabase(BENCH_ADMIN_URL);
  // Status steps (sent, delivered) come after the run: this measures the hand-over alone.
  const env = { SANDBOX_LATENCY_MS: '60000', OUTBOX_CONCURRENCY: CONCURRENCY, OUTBOX_POLL_MS: '50' };
  const servers: BenchApp[] = [];
  try {
    servers.push(
      await benchApp(database.url, env, {
        beforeStart: async (db) => {
          const knex = db.knex;
          const tenant = await knex('tenants').where({ slug: 'demo-clinic' }).first();
          const lee = await knex('practitioners').where({ tenant_id: tenant.id, external_id: 'dr-lee' }).first();
          await knex.raw(
            `INSERT INTO patients (tenant_id, external_id, name, phone)
             SELECT ?, 'BENCH-' || g, 'Bench Patient ' || g, '+614915' || lpad(g::text, 5, '0') FROM generate_series(1, ?) g`,
            [tenant.id, PATIENTS],
          );
          await knex.raw(
            `WITH p AS (SELECT array_agg(id ORDER BY external_id) AS ids, array_agg(phone ORDER BY external_id) AS phones FROM patients WHERE external_id LIKE 'BENCH-%'),
             c AS (
               INSERT INTO correspondence (tenant_id, patient_id, practitioner_id, channel, direction, status, body, contact, segments, session)
               SELECT ?, p.ids[1 + g % ?], ?, 'sms', 'outbound', 'queued', 'Outbox bench ' || g, p.phones[1 + g % ?], 1, '{"encoding":"GSM-7"}'::jsonb
               FROM generate_series(1, ?) g, p
               RETURNING id, tenant_id
             )
             INSERT INTO outbox (tenant_id, kind, correspondence_id) SELECT tenant_id, 'sms.send', id FROM c`,
            [tenant.id, PATIENTS, lee.id, PATIENTS, MESSAGES],
          );
        },
      }),
    );
    servers.push(await benchApp(database.url, env, { seed: false }));
    const knex = servers[0]!.db.knex;
    const deadline = Date.now() + 180_000;
    for (;;) {
      const n = Number((await knex('outbox').where({ state: 'pending' }).count({ n: '*' }))[0]?.n ?? 0);
      if (Number(n) === 0) break;
      if (Date.now() > deadline) throw new Error(`outbox: ${n} rows still pending after 180 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const [span] = (
      await knex.raw(
        `SELECT count(*)::int AS handed, count(DISTINCT reference)::int AS distinct_refs,
                extract(epoch FROM max(created_at) - min(created_at)) AS seconds
         FROM sandbox_messages
         -- This run's messages alone: the demo seed puts its own texts in the sandbox phones' inboxes, days back.
         WHERE direction = 'to_phone' AND reference IN (SELECT id::text FROM correspondence WHERE body LIKE 'Outbox bench %')`,
      )
    ).rows;
    const [failed] = (await knex.raw(`SELECT count(*)::int AS n FROM outbox WHERE state = 'failed'`)).rows;
    const perSecond = span.handed / Math.max(Number(span.seconds), 0.001);
    const duplicates = span.handed - span.distinct_refs;
    const lost = MESSAGES - span.distinct_refs;
    return {
      title: 'Outbox throughput on PostgreSQL (sandbox provider)',
      figures: [
        {
          what: `SMS handed to the sandbox provider, 2 workers × ${CONCURRENCY} concurrent sends`,
          baseline: '—',
          figure: `${fmt(perSecond)} messages/s (${fmt(MESSAGES)} in ${Number(span.seconds).toFixed(2)} s)`,
          ratio: '—',
          target: '≥ 500/s',
          met: perSecond >= 500,
        },
        {
          what: 'duplicates (sandbox deliveries per outbox entry beyond the first) / lost',
          baseline: '—',
          figure: `${duplicates} duplicated, ${lost} lost, ${failed.n} failed`,
          ratio: '—',
          target: '0 duplicated, 0 lost',
          met: duplicates === 0 && lost === 0 && failed.n === 0,
        },
      ],
      notes: [
        `Two app instances in one process, each with its own pool (10) and outbox worker; ${fmt(MESSAGES)} messages queued before the workers start; the rate is taken from the first to the last sandbox row's timestamp. Per message: claim (batched), entry + tenant + patient reads, the sandbox insert, the status transaction and the finish.`,
      ],
    };
  } finally {
    for (const server of servers.reverse()) await server.close();
    await database.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await benchOutbox(), null, 2));
