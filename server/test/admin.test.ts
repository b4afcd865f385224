import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, databases, startServer, type TestServer } from './helpers.js';

for (const kind of databases()) {
  describe(`host backend API (${kind})`, () => {
    let server: TestServer;
    let key: string;
    before(async () => {
      server = await startServer(kind);
      key = server.keys.demoClinicApiKey;
    });
    after(() => server.close());

    test('creates then updates a patient by external id, normalising the phone', async () => {
      const created = await api(server, '/api/v1/admin/patients/EXT-1', { method: 'PUT', token: key, body: { name: 'Ada Lovelace', phone: '+61 491 570 313', email: 'ada@example.com' } });
      assert.equal(created.status, 201);
      assert.equal(created.body.phone, '+61491570313');
      assert.equal(created.body.externalId, 'EXT-1');
      const updated = await api(server, '/api/v1/admin/patients/EXT-1', { method: 'PUT', token: key, body: { name: 'Ada King', phone: null } });
      assert.equal(updated.status, 200);
      assert.equal(updated.body.id, created.body.id);
      assert.equal(updated.body.name, 'Ada King');
      assert.equal(updated.body.phone, null);
    });

    test('rejects bad patient input with field errors and writes nothing', async () => {
      const cases: Array<[unknown, string]> = [
        [{ name: '' }, 'body.name'],
        [{ name: 'X', phone: '0491 570 006' }, 'body.phone'],
        [{ name: 'X', phone: 'call me' }, 'body.phone'],
        [{ name: 'X', email: 'not-an-email' }, 'body.email'],
        [{}, 'body.name'],
      ];
      for (const [body, path] of cases) {
        const res = await api(server, '/api/v1/admin/patients/BAD-1', { method: 'PUT', token: key, body });
        assert.equal(res.status, 422, JSON.stringify(body));
        assert.equal(res.body.code, 'validation_failed');
        assert.equal(res.body.errors[0].path, path);
      }
      assert.equal(await server.db.knex('patients').where({ external_id: 'BAD-1' }).first(), undefined);
      const badId = await api(server, '/api/v1/admin/patients/has%20space', { method: 'PUT', token: key, body: { name: 'X' } });
      assert.equal(badId.status, 422);
    });

    test('malformed JSON is 400 and a huge body is 413', async () => {
      const bad = await api(server, '/api/v1/admin/patients/EXT-2', { method: 'PUT', token: key, body: '{"name":' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'invalid_json');
      const huge = await api(server, '/api/v1/admin/patients/EXT-2', { method: 'PUT', token: key, body: { name: 'x'.repeat(200_000) } });
      assert.equal(huge.status, 413);
      assert.equal(huge.body.code, 'payload_too_large');
    });

    test('sets exactly which patients a practitioner may see', async () => {
      await api(server, '/api/v1/admin/practitioners/dr-temp', { method: 'PUT', token: key, body: { name: 'Dr Temp' } });
      const session = await api(server, '/api/v1/sessions', { token: key, body: { practitioner: { externalId: 'dr-temp', name: 'Dr Temp' } } });
      const token = session.body.token as string;
      const set = await api(server, '/api/v1/admin/access', { method: 'PUT', token: key, body: { practitioner: 'dr-temp', patients: ['MRN-100231', 'MRN-100245'] } });
      assert.equal(set.status, 200);
      assert.deepEqual(set.body, { practitioner: 'dr-temp', patients: ['MRN-100231', 'MRN-100245'] });
      let names = (await api(server, '/api/v1/patients', { token })).body.items.map((p: { name: string }) => p.name);
      assert.deepEqual(names, ["James O'Connor", 'Margaret Thompson']);

      await api(server, '/api/v1/admin/access', { method: 'PUT', token: key, body: { practitioner: 'dr-temp', patients: ['MRN-100245'] } });
      names = (await api(server, '/api/v1/patients', { token })).body.items.map((p: { name: string }) => p.name);
      assert.deepEqual(names, ["James O'Connor"]);

      const unknown = await api(server, '/api/v1/admin/access', { method: 'PUT', token: key, body: { practitioner: 'dr-temp', patients: ['MRN-100245', 'NOPE'] } });
      assert.equal(unknown.status, 422);
      assert.equal(unknown.body.code, 'unknown_patient');
      // Nothing changed by the rejected request.
      names = (await api(server, '/api/v1/patients', { token })).body.items.map((p: { name: string }) => p.name);
      assert.deepEqual(names, ["James O'Connor"]);

      const noone = await api(server, '/api/v1/admin/access', { method: 'PUT', token: key, body: { practitioner: 'dr-ghost', patients: [] } });
      assert.equal(noone.status, 422);
      assert.equal(noone.body.code, 'unknown_practitioner');
    });

    test('another tenant’s patients cannot be granted or logged against', async () => {
      const res = await api(server, '/api/v1/admin/access', { method: 'PUT', token: key, body: { practitioner: 'dr-lee', patients: ['OC-5001'] } });
      assert.equal(res.status, 422);
      const log = await api(server, '/api/v1/admin/correspondence', { token: key, body: { patient: 'OC-5001', channel: 'email', body: 'x' } });
      assert.equal(log.status, 422);
      assert.equal(log.body.code, 'unknown_patient');
    });

    test('logs correspondence made elsewhere', async () => {
      const res = await api(server, '/api/v1/admin/correspondence', {
        token: key,
        body: { patient: 'MRN-100231', practitioner: 'dr-lee', channel: 'email', body: 'Your referral letter is attached.', occurredAt: '2026-11-20T09:30:00+11:00' },
      });
      assert.equal(res.status, 201);
      assert.equal(res.body.channel, 'email');
      assert.equal(res.body.status, 'logged');
      assert.equal(res.body.contact, 'margaret.thompson@example.com');
      assert.equal(res.body.createdAt, '2026-11-19T22:30:00.000Z');
      const lee = await server.token('dr-lee');
      const history = await api(server, `/api/v1/correspondence?patientId=${res.body.patientId}&channel=email`, { token: lee });
      assert.ok(history.body.items.some((e: { id: string }) => e.id === res.body.id));

      const bad = await api(server, '/api/v1/admin/correspondence', { token: key, body: { patient: 'MRN-100231', channel: 'pigeon' } });
      assert.equal(bad.status, 422);
      assert.equal(bad.body.errors[0].path, 'body.channel');
    });
  });
}
