import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, databases, startServer, type TestServer } from './helpers.js';

interface Entry {
  id: string;
  patientId: string;
  channel: string;
  direction: string;
  createdAt: string;
  body: string | null;
}

for (const kind of databases()) {
  describe(`correspondence history (${kind})`, () => {
    let server: TestServer;
    let lee: string;
    let patel: string;
    let other: string;
    let patients: Array<{ id: string; name: string; externalId: string }>;
    before(async () => {
      server = await startServer(kind);
      [lee, patel, other] = await Promise.all([server.token('dr-lee'), server.token('dr-patel'), server.token('dr-other')]);
      patients = (await api(server, '/api/v1/patients', { token: lee })).body.items;
    });
    after(() => server.close());
    const byName = (name: string) => patients.find((p) => p.name === name)!;

    test('newest first, every field of the contract', async () => {
      const res = await api(server, `/api/v1/correspondence?patientId=${byName('Margaret Thompson').id}`, { token: lee });
      assert.equal(res.status, 200);
      const items: Entry[] = res.body.items;
      assert.equal(items.length, 5);
      const times = items.map((e) => Date.parse(e.createdAt));
      assert.deepEqual(times, [...times].sort((a, b) => b - a));
      assert.deepEqual(Object.keys(items[0]!).sort(), [
        'body', 'channel', 'contact', 'createdAt', 'direction', 'durationSeconds', 'errorCode', 'errorReason', 'hasRecording', 'id', 'notes',
        'patientId', 'patientName', 'practitionerId', 'providerSid', 'segments', 'session', 'status', 'updatedAt',
      ]);
      assert.deepEqual(new Set(items.map((e) => e.channel)), new Set(['sms', 'email', 'voice', 'video']));
      assert.ok(items.every((e) => (e as Entry & { patientName: string }).patientName === 'Margaret Thompson'));
    });

    test('filters by channel and direction', async () => {
      const sms = (await api(server, '/api/v1/correspondence?channel=sms', { token: lee })).body.items as Entry[];
      assert.ok(sms.length > 0);
      assert.ok(sms.every((e) => e.channel === 'sms'));
      const inbound = (await api(server, '/api/v1/correspondence?channel=sms&direction=inbound', { token: lee })).body.items as Entry[];
      assert.ok(inbound.length > 0 && inbound.every((e) => e.direction === 'inbound' && e.channel === 'sms'));
      assert.ok(inbound.length < sms.length);
    });

    test('without a patient, only the practitioner’s patients appear', async () => {
      const mine = new Set(((await api(server, '/api/v1/patients', { token: patel })).body.items as Array<{ id: string }>).map((p) => p.id));
      const items = (await api(server, '/api/v1/correspondence?limit=200', { token: patel })).body.items as Entry[];
      assert.ok(items.length > 0);
      assert.ok(items.every((e) => mine.has(e.patientId)));
      const otherItems = (await api(server, '/api/v1/correspondence?limit=200', { token: other })).body.items as Entry[];
      assert.ok(otherItems.every((e) => !patients.some((p) => p.id === e.patientId)));
    });

    test('an ungranted or foreign patient’s history is 404', async () => {
      const lucas = byName('Lucas Silva').id;
      for (const token of [patel, other]) {
        const res = await api(server, `/api/v1/correspondence?patientId=${lucas}`, { token });
        assert.equal(res.status, 404);
        assert.equal(res.body.code, 'not_found');
      }
    });

    test('an unknown channel, a bad cursor or a limit over 200 is 422', async () => {
      for (const query of ['channel=fax', 'direction=sideways', 'cursor=abc', 'limit=201', 'patientId=123', `cursor=${Buffer.from('["2020-01-01","x"]').toString('base64url')}`]) {
        const res = await api(server, `/api/v1/correspondence?${query}`, { token: lee });
        assert.equal(res.status, 422, query);
        assert.ok(['validation_failed', 'invalid_cursor'].includes(res.body.code), query);
      }
    });

    test('keyset pages have no gaps or repeats while rows are being inserted', async () => {
      const patient = byName('Aiko Tanaka');
      // Enough history with identical timestamps to exercise the id tie-break.
      const at = new Date(Date.now() - 3600_000).toISOString();
      for (let i = 0; i < 30; i += 1) {
        const res = await api(server, '/api/v1/admin/correspondence', {
          token: server.keys.demoClinicApiKey,
          body: { patient: patient.externalId, channel: 'email', body: `old ${i}`, occurredAt: at },
        });
        assert.equal(res.status, 201);
      }
      const before = (await api(server, `/api/v1/correspondence?patientId=${patient.id}&limit=200`, { token: lee })).body.items as Entry[];
      const seen: string[] = [];
      let cursor: string | null = null;
      let inserted = 0;
      do {
        const res: { status: number; body: { items: Entry[]; nextCursor: string | null } } = await api(
          server,
          `/api/v1/correspondence?patientId=${patient.id}&limit=4${cursor ? `&cursor=${cursor}` : ''}`,
          { token: lee },
        );
        assert.equal(res.status, 200);
        seen.push(...res.body.items.map((e) => e.id));
        cursor = res.body.nextCursor;
        // New entries land at the top while we page down: they must not disturb the pages.
        await api(server, '/api/v1/admin/correspondence', {
          token: server.keys.demoClinicApiKey,
          body: { patient: patient.externalId, channel: 'sms', direction: 'inbound', body: `new ${inserted++}` },
        });
      } while (cursor);
      assert.equal(new Set(seen).size, seen.length, 'no repeats');
      assert.deepEqual(seen, before.map((e) => e.id), 'no gaps, same order');
    });
  });
}
