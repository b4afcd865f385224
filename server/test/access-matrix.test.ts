import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, databases, startServer, type TestServer } from './helpers.js';

/**
 * Access matrix: for every endpoint that takes a patient (or something of a
 * patient's), a practitioner without a grant and a practitioner of another
 * tenant get 404 — the same answer as for a patient that does not exist — and
 * never a byte of the patient's data. Plus hostile input on the same routes.
 */
for (const kind of databases()) {
  describe(`access matrix (${kind})`, () => {
    let server: TestServer;
    let lee: string;
    let patel: string;
    let other: string;
    let lucas: { id: string; name: string; phone: string };
    before(async () => {
      server = await startServer(kind);
      [lee, patel, other] = await Promise.all([server.token('dr-lee'), server.token('dr-patel'), server.token('dr-other')]);
      lucas = (await api(server, '/api/v1/patients?q=Lucas', { token: lee })).body.items[0];
    });
    after(() => server.close());

    const MISSING = '00000000-0000-4000-8000-000000000000';
    const routes = (patientId: string): Array<{ method: string; path: string; body?: unknown }> => [
      { method: 'GET', path: `/api/v1/patients/${patientId}` },
      { method: 'GET', path: `/api/v1/correspondence?patientId=${patientId}` },
      { method: 'POST', path: `/api/v1/patients/${patientId}/messages`, body: { body: 'Hello' } },
    ];

    test('every patient route: ungranted and foreign practitioners get exactly what a missing patient gets', async () => {
      const missing = routes(MISSING);
      for (const [index, route] of routes(lucas.id).entries()) {
        const reference = await api(server, missing[index]!.path, { method: route.method, token: lee, body: route.body });
        assert.equal(reference.status, 404, `${route.method} ${route.path} for a missing patient`);
        for (const [who, token] of [['dr-patel (no grant)', patel], ['dr-other (other tenant)', other]] as const) {
          const res = await api(server, route.path, { method: route.method, token, body: route.body });
          const text = JSON.stringify(res.body);
          assert.equal(res.status, 404, `${who}: ${route.method} ${route.path}`);
          assert.deepEqual(res.body, reference.body, `${who}: same problem as a missing patient`);
          for (const secret of [lucas.name, lucas.phone, 'Silva', lucas.id]) assert.ok(!text.includes(secret), `${who} sees nothing of ${secret}`);
        }
      }
      // Nothing was sent on the refused requests.
      const sent = await server.db.knex('correspondence').where({ patient_id: lucas.id, channel: 'sms', direction: 'outbound', body: 'Hello' });
      assert.equal(sent.length, 0);
    });

    test('lists never leak another tenant’s or an ungranted patient', async () => {
      for (const [token, forbidden] of [
        [patel, ['Lucas Silva', "James O'Connor", 'Noah Williams', 'Grace Kim', 'Oliver Brown']],
        [other, ['Lucas Silva', 'Margaret Thompson', 'Aiko Tanaka']],
      ] as const) {
        const patients = JSON.stringify((await api(server, '/api/v1/patients?limit=100', { token })).body);
        const history = JSON.stringify((await api(server, '/api/v1/correspondence?limit=200', { token })).body);
        for (const name of forbidden) {
          assert.ok(!patients.includes(name), `patients list hides ${name}`);
          assert.ok(!history.includes(name), `history hides ${name}`);
        }
      }
    });

    test('hostile input gets clear errors and changes nothing', async () => {
      const cases: Array<[string, string, unknown, number]> = [
        ['POST', `/api/v1/patients/${lucas.id}/messages`, { body: 42 }, 422],
        ['POST', `/api/v1/patients/${lucas.id}/messages`, { body: ' \n\t ' }, 422],
        ['POST', `/api/v1/patients/${lucas.id}/messages`, { body: 'x'.repeat(1601) }, 422],
        ['POST', `/api/v1/patients/${lucas.id}/messages`, [], 422],
        ['POST', `/api/v1/patients/${lucas.id}/messages`, '{"body": "unterminated', 400],
        ['GET', `/api/v1/patients/${encodeURIComponent("' OR 1=1 --")}`, undefined, 404],
        ['GET', `/api/v1/patients?q=${encodeURIComponent("%' OR '1'='1")}`, undefined, 200],
        ['GET', `/api/v1/correspondence?patientId=${encodeURIComponent('1; DROP TABLE patients')}`, undefined, 422],
        ['GET', '/api/v1/correspondence?limit=-1', undefined, 422],
        ['GET', '/api/v1/correspondence?channel=sms&channel=voice', undefined, 422],
      ];
      const before = await server.db.knex('correspondence').count('* as n').first();
      for (const [method, path, body, status] of cases) {
        const res = await api(server, path, { method, token: lee, body });
        assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 40)}`);
        if (status >= 400) {
          assert.equal(res.headers.get('content-type'), 'application/problem+json');
          assert.ok(res.body.code && res.body.title, 'a problem with a code');
        }
      }
      const injected = await api(server, `/api/v1/patients?q=${encodeURIComponent("%' OR '1'='1")}`, { token: lee });
      assert.deepEqual(injected.body.items, []);
      assert.deepEqual(await server.db.knex('correspondence').count('* as n').first(), before);
      assert.ok(await server.db.knex.schema.hasTable('patients'));
    });

    test('static files cannot be escaped with ../', async () => {
      for (const path of ['/cdn/../../../package.json', '/cdn/%2e%2e/%2e%2e/%2e%2e/package.json', '/..%2f..%2fpackage.json']) {
        const res = await fetch(server.url + path);
        const text = await res.text();
        assert.ok(!text.includes('"workspaces"'), `${path} does not serve the repository`);
      }
    });
  });
}
