import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { twilioSignature } from '../src/providers/twilio-signature.js';
import { CorrespondenceRepository } from '../src/repositories/correspondence.js';
import { api, databases, startServer, startTwilioMock, TEST_TWILIO, twilioEnv, type TestServer } from './helpers.js';

/**
 * Round trips to the database per request on the hot paths (the history page
 * and the signed inbound-SMS webhook). Counted with knex's `query` event,
 * which also sees BEGIN and COMMIT. Background work that may run meanwhile
 * (the outbox worker's poll, the realtime hub reading back events it was
 * notified of, the coalesced NOTIFY) is not the request's and is left out.
 */
const BACKGROUND = [/from "outbox"|update outbox|with next as/i, /from "realtime_events"/i, /pg_notify/i, /^select "patient_id", "practitioner_id" from "patient_access"/i];

function countQueries(server: TestServer) {
  const seen: string[] = [];
  const onQuery = (q: { sql: string }) => {
    if (!BACKGROUND.some((re) => re.test(q.sql.trim()))) seen.push(q.sql);
  };
  server.db.knex.on('query', onQuery);
  return {
    stop() {
      server.db.knex.off('query', onQuery);
      return seen;
    },
  };
}

for (const kind of databases()) {
  describe(`query budgets on the hot paths (${kind})`, () => {
    let server: TestServer;
    let mock: Awaited<ReturnType<typeof startTwilioMock>>;
    let lee: string;
    let patient: { id: string; phone: string };
    before(async () => {
      mock = await startTwilioMock();
      server = await startServer(kind, { env: twilioEnv(mock.url) });
      lee = await server.token('dr-lee');
      const patients = (await api(server, '/api/v1/patients', { token: lee })).body.items as Array<{ id: string; phone: string | null }>;
      patient = patients.find((p) => p.phone !== null) as { id: string; phone: string };
    });
    after(async () => {
      await server.close();
      await mock.close();
    });

    test('a history page takes at most 2 queries, and 1 once the session is known (the page and its audit rows in one statement, which renders a page not read before)', async () => {
      // A fresh session: the practitioner's existence is checked once.
      const fresh = await server.token('dr-patel');
      const granted = await server.db
        .knex('patient_access as a')
        .join('practitioners as p', 'p.id', 'a.practitioner_id')
        .where('p.external_id', 'dr-patel')
        .first('a.patient_id');
      const cold = countQueries(server);
      const first = await api(server, `/api/v1/correspondence?patientId=${granted.patient_id}&limit=50`, { token: fresh });
      const coldQueries = cold.stop();
      assert.equal(first.status, 200);
      assert.ok(coldQueries.length <= 2, `history took ${coldQueries.length} queries:\n${coldQueries.join('\n')}`);

      // Entries the database rendered for each page (the statement's rows with JSON).
      const renderedBy = async (url: string) => {
        const rendered: string[] = [];
        const onResponse = (response: { rows?: Array<{ id?: string; json?: string | null }> }) => {
          for (const row of response.rows ?? []) if (typeof row.json === 'string' && row.id) rendered.push(row.id);
        };
        server.db.knex.on('query-response', onResponse);
        const counted = countQueries(server);
        try {
          const res = await api(server, url, { token: lee });
          return { res, queries: counted.stop(), rendered };
        } finally {
          server.db.knex.off('query-response', onResponse);
        }
      };
      const url = `/api/v1/correspondence?patientId=${patient.id}&limit=50`;
      const rendering = await renderedBy(url);
      assert.ok(rendering.res.body.items.length > 0, 'the demo patient has history');
      assert.equal(rendering.queries.length, 1, `history took ${rendering.queries.length} queries:\n${rendering.queries.join('\n')}`);
      assert.equal(rendering.rendered.length, rendering.res.body.items.length, 'a page never read before is rendered whole');

      const warm = await renderedBy(url);
      assert.equal(warm.res.status, 200);
      assert.deepEqual(warm.res.body, rendering.res.body);
      assert.equal(warm.queries.length, 1, `history took ${warm.queries.length} queries:\n${warm.queries.join('\n')}`);
      assert.deepEqual(warm.rendered, [], 'read again unchanged, nothing is rendered');

      // One entry changed: the page's listing, then the rendering of that entry alone.
      const changed = (warm.res.body.items as Array<{ id: string }>)[1]!.id;
      await server.db.knex('correspondence').where({ id: changed }).update({ notes: 'amended' });
      const third = await renderedBy(url);
      assert.equal(third.queries.length, 2, `history took ${third.queries.length} queries:\n${third.queries.join('\n')}`);
      assert.deepEqual(third.rendered, [changed]);
      assert.equal((third.res.body.items as Array<{ id: string; notes: string | null }>)[1]!.notes, 'amended');
    });

    test('the history page statement keeps one generic plan: PostgreSQL does not plan it afresh on every read', async (t) => {
      if (kind !== 'postgres') return t.skip('PGlite runs statements unprepared');
      // Its own server: a connection's first executions of a statement weigh in PostgreSQL's choice of plan,
      // and the other tests read patients with a handful of entries.
      const own = await startServer(kind);
      t.after(() => own.close());
      const knex = own.db.knex;
      const tenant = await knex('tenants').where({ slug: 'demo-clinic' }).first();
      const lee = await knex('practitioners').where({ tenant_id: tenant.id, external_id: 'dr-lee' }).first();
      // Enough entries for the planner to read a patient's by index, as on a real table (200 patients × 500 entries).
      await knex.raw(
        `INSERT INTO patients (tenant_id, external_id, name) SELECT ?, 'PLAN-' || g, 'Plan Patient ' || g FROM generate_series(1, 200) g`,
        [tenant.id],
      );
      await knex.raw(`INSERT INTO patient_access (practitioner_id, patient_id, tenant_id) SELECT ?, id, tenant_id FROM patients WHERE external_id LIKE 'PLAN-%'`, [lee.id]);
      await knex.raw(
        `INSERT INTO correspondence (tenant_id, patient_id, channel, direction, status, body, created_at)
         SELECT p.tenant_id, p.id, 'sms', 'outbound', 'delivered', 'plan ' || g, now() - g * interval '1 minute'
         FROM patients p, generate_series(1, 500) g WHERE p.external_id LIKE 'PLAN-%'`,
      );
      await knex.raw('ANALYZE correspondence');
      const patient = await knex('patients').where({ tenant_id: tenant.id, external_id: 'PLAN-1' }).first();
      const plans = await knex
        .transaction(async (trx) => {
          // One connection for the reads and the look at its prepared statements (pg_prepared_statements is per session).
          const repo = new CorrespondenceRepository(trx);
          const audit = { actorType: 'practitioner', actorId: lee.id, action: 'correspondence.list', requestId: null, ip: null };
          for (let i = 0; i < 12; i += 1) await repo.history({ tenantId: tenant.id, practitionerId: lee.id, patientId: patient.id, limit: 50 }, audit);
          const { rows } = await trx.raw(`SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'history_p_50'`);
          throw Object.assign(new Error('rollback'), { rows });
        })
        .catch((error: { rows?: Array<{ generic_plans: string; custom_plans: string }> }) => error.rows?.[0]);
      assert.ok(plans, 'the page statement was prepared');
      // PostgreSQL plans the first five executions for their values, then keeps the generic plan when it costs no more.
      assert.ok(Number(plans.generic_plans) >= 6, `generic plans ${plans.generic_plans}, custom plans ${plans.custom_plans}`);
    });

    test('the server\'s PostgreSQL sessions do not JIT-compile statements', async (t) => {
      if (kind !== 'postgres') return t.skip('PGlite has no JIT');
      // A batch of history pages rendered afresh has an estimated cost past jit_above_cost: compiling it took
      // about 40 ms per execution (rendered pages fell from about 1,300 to 165 a second in bench/history.ts).
      const { rows } = await server.db.knex.raw('SHOW jit');
      assert.equal(rows[0].jit, 'off');
    });

    test('the access check still answers 404 for an ungranted or foreign caller, at no extra query when the page has entries', async () => {
      const other = await server.token('dr-other');
      const denied = await api(server, `/api/v1/correspondence?patientId=${patient.id}&limit=50`, { token: other });
      assert.equal(denied.status, 404);
      assert.equal(denied.body.code, 'not_found');
    });

    test('a signed inbound SMS webhook is one statement (sender lookup and every write), and one more while the tenants on the number are not yet remembered', async () => {
      const path = '/webhooks/twilio/sms-inbound';
      const post = async (sid: string) => {
        const params = { AccountSid: TEST_TWILIO.accountSid, MessageSid: sid, From: patient.phone, To: '+61491571266', Body: 'Thanks, see you then', NumMedia: '0' };
        const res = await fetch(server.url + path, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(TEST_TWILIO.authToken, TEST_TWILIO.baseUrl + path, params) },
          body: new URLSearchParams(params).toString(),
        });
        await res.text();
        return res.status;
      };
      const counter = countQueries(server);
      assert.equal(await post('SM' + '1'.repeat(32)), 200);
      const queries = counter.stop();
      assert.ok(queries.length <= 2, `inbound webhook took ${queries.length} queries:\n${queries.join('\n')}`);
      const warm = countQueries(server);
      assert.equal(await post('SM' + '2'.repeat(32)), 200);
      const warmQueries = warm.stop();
      assert.equal(warmQueries.length, 1, `a warm inbound webhook took ${warmQueries.length} queries:\n${warmQueries.join('\n')}`);
      // A duplicate delivery is still stored once.
      assert.equal(await post('SM' + '1'.repeat(32)), 200);
      const stored = await server.db.knex('correspondence').where({ provider_sid: 'SM' + '1'.repeat(32) }).count({ n: '*' });
      assert.equal(Number(stored[0]!.n), 1);
      const events = await server.db.knex('correspondence_events').where({ provider_sid: 'SM' + '1'.repeat(32) }).count({ n: '*' });
      assert.equal(Number(events[0]!.n), 1);
    });
  });
}
