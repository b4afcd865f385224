import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, databases, openEvents, startServer, type TestServer } from './helpers.js';

for (const kind of databases()) {
  describe(`realtime events (${kind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer(kind);
    });
    after(() => server.close());

    const log = (patient: string, body: string, key = server.keys.demoClinicApiKey) =>
      api(server, '/api/v1/admin/correspondence', { token: key, body: { patient, channel: 'sms', direction: 'inbound', body } });

    test('an entry reaches exactly the sessions allowed to see its patient', async () => {
      const [lee, patel, other] = await Promise.all([server.token('dr-lee'), server.token('dr-patel'), server.token('dr-other')]);
      const [leeEvents, patelEvents, otherEvents] = await Promise.all([openEvents(server, lee), openEvents(server, patel), openEvents(server, other)]);
      assert.equal(leeEvents.status, 200);
      try {
        // Lucas is not granted to dr-patel; Margaret is.
        const lucas = await log('MRN-100278', 'for lee only');
        const margaret = await log('MRN-100231', 'for both');
        await leeEvents.waitFor((e) => e.length >= 2);
        await patelEvents.waitFor((e) => e.length >= 1);
        // Give a wrongly routed event time to arrive before asserting it did not.
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(leeEvents.events.map((e) => JSON.parse(e.data).id), [lucas.body.id, margaret.body.id]);
        assert.deepEqual(patelEvents.events.map((e) => JSON.parse(e.data).id), [margaret.body.id]);
        assert.equal(otherEvents.events.length, 0);
        const event = leeEvents.events[1]!;
        assert.equal(event.event, 'correspondence.created');
        assert.match(event.id!, /^\d+$/);
        assert.equal(JSON.parse(event.data).body, 'for both');
      } finally {
        leeEvents.close();
        patelEvents.close();
        otherEvents.close();
      }
    });

    test('Last-Event-ID replays what a reconnecting client missed, once', async () => {
      const lee = await server.token('dr-lee');
      const first = await openEvents(server, lee);
      await log('MRN-100231', 'seen');
      await first.waitFor((e) => e.length === 1);
      const lastId = first.events[0]!.id!;
      first.close();

      await log('MRN-100231', 'missed 1');
      await log('MRN-100245', 'missed 2');
      const again = await openEvents(server, lee, lastId);
      try {
        await again.waitFor((e) => e.length >= 2);
        await log('MRN-100231', 'live after reconnect');
        await again.waitFor((e) => e.length >= 3);
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(again.events.map((e) => JSON.parse(e.data).body), ['missed 1', 'missed 2', 'live after reconnect']);
      } finally {
        again.close();
      }
    });

    test('patient updates are events too; the stream needs a session token', async () => {
      const unauth = await fetch(`${server.url}/api/v1/events`);
      assert.equal(unauth.status, 401);
      const keyAsSession = await fetch(`${server.url}/api/v1/events`, { headers: { authorization: `Bearer ${server.keys.demoClinicApiKey}` } });
      assert.equal(keyAsSession.status, 401);
      const stream = await openEvents(server, await server.token('dr-patel'));
      try {
        await api(server, '/api/v1/admin/patients/MRN-100262', { method: 'PUT', token: server.keys.demoClinicApiKey, body: { name: 'Aiko Tanaka', phone: '+61491570157' } });
        await stream.waitFor((e) => e.some((x) => x.event === 'patient.updated'));
        assert.equal(JSON.parse(stream.events.find((x) => x.event === 'patient.updated')!.data).name, 'Aiko Tanaka');
      } finally {
        stream.close();
      }
    });
  });
}

if (process.env.TEST_DATABASE_URL) {
  describe('realtime across server instances (postgres)', () => {
    test('a write on one instance reaches a browser connected to another', async () => {
      const a = await startServer('postgres');
      const url = (a.db.knex.client.config.connection as { connectionString: string }).connectionString;
      const b = await startServer('postgres', { databaseUrl: url });
      try {
        const stream = await openEvents(b, await b.token('dr-lee'));
        const res = await api(a, '/api/v1/admin/correspondence', { token: a.keys.demoClinicApiKey, body: { patient: 'MRN-100231', channel: 'email', body: 'via a' } });
        await stream.waitFor((e) => e.length >= 1);
        assert.equal(JSON.parse(stream.events[0]!.data).id, res.body.id);
        stream.close();
      } finally {
        await b.close();
        await a.close();
      }
    });
  });
}
