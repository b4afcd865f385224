import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, databases, startServer, type TestServer } from './helpers.js';

for (const kind of databases()) {
  describe(`patients (${kind})`, () => {
    let server: TestServer;
    let lee: string;
    let patel: string;
    let other: string;
    before(async () => {
      server = await startServer(kind);
      [lee, patel, other] = await Promise.all([server.token('dr-lee'), server.token('dr-patel'), server.token('dr-other')]);
    });
    after(() => server.close());

    test('lists the patients a practitioner may contact, in name order', async () => {
      const res = await api(server, '/api/v1/patients', { token: lee });
      assert.equal(res.status, 200);
      const names = res.body.items.map((p: { name: string }) => p.name);
      assert.deepEqual(names, [...names].sort((a: string, b: string) => a.toLowerCase().localeCompare(b.toLowerCase())));
      assert.equal(names.length, 7);
      assert.equal(res.body.nextCursor, null);
      const margaret = res.body.items.find((p: { name: string }) => p.name === 'Margaret Thompson');
      assert.deepEqual(Object.keys(margaret).sort(), ['email', 'externalId', 'id', 'name', 'optedOut', 'phone', 'phoneDisplay']);
      assert.equal(margaret.phone, '+61491570006');
      assert.equal(margaret.phoneDisplay, '+61 491 570 006');
    });

    test('a practitioner sees only granted patients', async () => {
      const res = await api(server, '/api/v1/patients', { token: patel });
      assert.deepEqual(res.body.items.map((p: { name: string }) => p.name), ['Aiko Tanaka', 'Fatima Rahman', 'Margaret Thompson']);
    });

    test('searches by part of the name, case-insensitively, and treats % and _ literally', async () => {
      const res = await api(server, '/api/v1/patients?q=TANA', { token: lee });
      assert.deepEqual(res.body.items.map((p: { name: string }) => p.name), ['Aiko Tanaka']);
      assert.deepEqual((await api(server, '/api/v1/patients?q=%25', { token: lee })).body.items, []);
      assert.deepEqual((await api(server, "/api/v1/patients?q=o'c", { token: lee })).body.items.map((p: { name: string }) => p.name), ["James O'Connor"]);
    });

    test('searches by the host’s id and by digits of the phone number', async () => {
      const names = async (q: string) => (await api(server, `/api/v1/patients?q=${encodeURIComponent(q)}`, { token: lee })).body.items.map((p: { name: string }) => p.name);
      assert.deepEqual(await names('mrn-100262'), ['Aiko Tanaka']);
      assert.deepEqual(await names('0491 570 158'.slice(-7)), ['Lucas Silva']);
      assert.deepEqual(await names('570 15'), ["James O'Connor", 'Aiko Tanaka', 'Lucas Silva', 'Fatima Rahman'].sort());
      // Two digits are too few to search phones by.
      assert.deepEqual(await names('15'), []);
    });

    test('pages with a cursor without gaps or repeats', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await api(
          server,
          `/api/v1/patients?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          { token: lee },
        );
        seen.push(...res.body.items.map((p) => p.id));
        cursor = res.body.nextCursor;
        pages += 1;
      } while (cursor);
      assert.equal(pages, 4);
      assert.equal(seen.length, 7);
      assert.equal(new Set(seen).size, 7);
    });

    test('bad input is 422 problem+json', async () => {
      for (const path of ['/api/v1/patients?limit=0', '/api/v1/patients?limit=101', '/api/v1/patients?cursor=nope', '/api/v1/patients?cursor=WyJhIiwiYiJd']) {
        const res = await api(server, path, { token: lee });
        assert.equal(res.status, 422, path);
        assert.equal(res.headers.get('content-type'), 'application/problem+json');
      }
    });

    test('one patient; another tenant’s or an ungranted patient is 404 like a missing one', async () => {
      const all = (await api(server, '/api/v1/patients', { token: lee })).body.items as Array<{ id: string; name: string }>;
      const lucas = all.find((p) => p.name === 'Lucas Silva')!;
      assert.equal((await api(server, `/api/v1/patients/${lucas.id}`, { token: lee })).body.name, 'Lucas Silva');

      const ungranted = await api(server, `/api/v1/patients/${lucas.id}`, { token: patel });
      const foreign = await api(server, `/api/v1/patients/${lucas.id}`, { token: other });
      const missing = await api(server, '/api/v1/patients/00000000-0000-4000-8000-000000000000', { token: lee });
      const malformed = await api(server, '/api/v1/patients/not-a-uuid', { token: lee });
      for (const res of [ungranted, foreign, missing, malformed]) {
        assert.equal(res.status, 404);
        assert.deepEqual(res.body, ungranted.body);
        assert.ok(!JSON.stringify(res.body).includes('Lucas'));
      }
    });

    test('reads are audited', async () => {
      const list = await api(server, '/api/v1/patients?q=Grace', { token: lee });
      const grace = list.body.items[0] as { id: string };
      const read = await api(server, `/api/v1/patients/${grace.id}`, { token: lee });
      const rows = await server.db
        .knex('audit_log')
        .whereIn('request_id', [list.headers.get('x-request-id'), read.headers.get('x-request-id')])
        .orderBy('id');
      assert.deepEqual(
        rows.map((r) => [r.action, r.patient_id, r.actor_type]),
        [
          ['patient.list', grace.id, 'practitioner'],
          ['patient.read', grace.id, 'practitioner'],
        ],
      );
      await assert.rejects(server.db.knex('audit_log').where({ id: rows[0].id }).delete(), /append-only/);
      await assert.rejects(server.db.knex('audit_log').where({ id: rows[0].id }).update({ action: 'x' }), /append-only/);
    });
  });
}
