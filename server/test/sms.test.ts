import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, databases, FAST_OUTBOX_ENV, openEvents, startServer, waitUntil, type TestServer } from './helpers.js';

interface Entry {
  id: string;
  patientId: string;
  practitionerId: string | null;
  channel: string;
  direction: string;
  status: string;
  body: string | null;
  contact: string | null;
  segments: number | null;
  session: { encoding?: string } | null;
  providerSid: string | null;
  errorCode: string | null;
}

interface Patient {
  id: string;
  name: string;
  externalId: string;
  phone: string | null;
  optedOut: boolean;
}

for (const kind of databases()) {
  describe(`SMS through the sandbox (${kind})`, () => {
    let server: TestServer;
    let lee: string;
    let patients: Patient[];
    before(async () => {
      server = await startServer(kind, { env: FAST_OUTBOX_ENV });
      lee = await server.token('dr-lee');
      patients = (await api(server, '/api/v1/patients', { token: lee })).body.items;
    });
    after(() => server.close());
    const byName = (name: string) => patients.find((p) => p.name === name)!;
    const send = (patientId: string, body: unknown, options: { token?: string; key?: string } = {}) =>
      api<Entry & { code?: string }>(server, `/api/v1/patients/${patientId}/messages`, {
        token: options.token ?? lee,
        body,
        headers: options.key ? { 'idempotency-key': options.key } : {},
      });
    const entry = async (id: string) => (await server.db.knex('correspondence').where({ id }).first()) as { status: string; provider_sid: string | null; error_code: string | null };
    const phoneMessages = async (phone: string) =>
      (await api<{ items: Array<{ from: string; to: string; body: string; status: string; clinicName: string | null }> }>(server, `/sandbox/api/messages?phone=${encodeURIComponent(phone)}`)).body.items;
    const setPhone = (externalId: string, name: string, phone: string | null) =>
      api(server, `/api/v1/admin/patients/${externalId}`, { method: 'PUT', token: server.keys.demoClinicApiKey, body: { name, phone } });

    test('the session offers sms', async () => {
      const res = await api(server, '/api/v1/session', { token: lee });
      assert.ok(res.body.features.includes('sms'));
      assert.equal(res.body.provider, 'sandbox');
    });

    test('a message is queued (202), reaches the phone, and goes sent → delivered live', async () => {
      const margaret = byName('Margaret Thompson');
      const events = await openEvents(server, lee);
      try {
        const res = await send(margaret.id, { body: 'Your results are ready.' });
        assert.equal(res.status, 202);
        assert.equal(res.body.channel, 'sms');
        assert.equal(res.body.direction, 'outbound');
        assert.equal(res.body.status, 'queued');
        assert.equal(res.body.segments, 1);
        assert.deepEqual(res.body.session, { encoding: 'GSM-7' });
        assert.equal(res.body.contact, margaret.phone);
        assert.ok(Date.parse((res.body as unknown as { updatedAt: string }).updatedAt) >= Date.parse((res.body as unknown as { createdAt: string }).createdAt));
        const id = res.body.id;
        await events.waitFor((e) => e.some((x) => x.event === 'correspondence.updated' && JSON.parse(x.data).id === id && JSON.parse(x.data).status === 'delivered'));
        const mine = events.events.filter((x) => JSON.parse(x.data).id === id);
        assert.equal(mine[0]!.event, 'correspondence.created');
        const statuses = mine.filter((x) => x.event === 'correspondence.updated').map((x) => JSON.parse(x.data).status);
        // Each status once, in order (a first update may only record the provider SID, still queued).
        assert.deepEqual(statuses.filter((s) => s !== 'queued'), ['sent', 'delivered']);
        const final = await entry(id);
        assert.match(final.provider_sid!, /^SM[0-9a-f]{32}$/);
        const recorded = await server.db.knex('correspondence_events').where({ correspondence_id: id }).orderBy('id').pluck('status');
        assert.deepEqual(recorded, ['queued', 'sent', 'delivered']);
        const inbox = await phoneMessages(margaret.phone!);
        const received = inbox.filter((m) => m.body === 'Your results are ready.');
        assert.equal(received.length, 1);
        assert.equal(received[0]!.from, '+61491571266');
        assert.equal(received[0]!.clinicName, 'Demo Clinic');
      } finally {
        events.close();
      }
    });

    test('segments and encoding: UCS-2 when a character needs it', async () => {
      const res = await send(byName('Aiko Tanaka').id, { body: 'こんにちは '.repeat(12) });
      assert.equal(res.status, 202);
      assert.deepEqual(res.body.session, { encoding: 'UCS-2' });
      assert.equal(res.body.segments, 2);
      const long = await send(byName('Aiko Tanaka').id, { body: 'a'.repeat(1600) });
      assert.equal(long.status, 202);
      assert.equal(long.body.segments, 11);
    });

    test('empty, whitespace-only or over 1,600 characters is 422 validation_failed', async () => {
      const id = byName('Margaret Thompson').id;
      for (const body of [{ body: '' }, { body: '   \n\t ' }, { body: 'a'.repeat(1601) }, {}, { body: 42 }]) {
        const res = await send(id, body);
        assert.equal(res.status, 422, JSON.stringify(body).slice(0, 40));
        assert.equal(res.body.code, 'validation_failed');
      }
    });

    test('no mobile number is 422 no_phone; opted out is 409 opted_out', async () => {
      const grace = await send(byName('Grace Kim').id, { body: 'hello' });
      assert.equal(grace.status, 422);
      assert.equal(grace.body.code, 'no_phone');
      const noah = await send(byName('Noah Williams').id, { body: 'hello' });
      assert.equal(noah.status, 409);
      assert.equal(noah.body.code, 'opted_out');
      // A landline cannot take a text.
      const fatima = byName('Fatima Rahman');
      assert.equal((await setPhone(fatima.externalId, fatima.name, '+61255501234')).status, 200);
      try {
        const landline = await send(fatima.id, { body: 'hello' });
        assert.equal(landline.status, 422);
        assert.equal(landline.body.code, 'no_phone');
      } finally {
        await setPhone(fatima.externalId, fatima.name, fatima.phone);
      }
    });

    test('a patient the practitioner may not see is 404, and nothing is written', async () => {
      const before = Number((await server.db.knex('correspondence').count({ n: '*' }))[0]!.n);
      const patel = await server.token('dr-patel');
      const other = await server.token('dr-other');
      for (const [token, id] of [
        [patel, byName('Lucas Silva').id],
        [other, byName('Margaret Thompson').id],
        [lee, '00000000-0000-4000-8000-000000000000'],
        [lee, 'not-a-uuid'],
      ] as const) {
        const res = await send(id, { body: 'hello' }, { token });
        assert.equal(res.status, 404);
        assert.equal(res.body.code, 'not_found');
      }
      const unauth = await api(server, `/api/v1/patients/${byName('Lucas Silva').id}/messages`, { body: { body: 'x' } });
      assert.equal(unauth.status, 401);
      assert.equal(Number((await server.db.knex('correspondence').count({ n: '*' }))[0]!.n), before);
    });

    test('Idempotency-Key: a repeat returns the same entry and sends nothing; another body is 422', async () => {
      const james = byName("James O'Connor");
      const key = `key-${kind}-1`;
      const first = await send(james.id, { body: 'Idempotent hello' }, { key });
      assert.equal(first.status, 202);
      const again = await send(james.id, { body: 'Idempotent hello' }, { key });
      assert.equal(again.status, 202);
      assert.equal(again.body.id, first.body.id);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      const reused = await send(james.id, { body: 'A different body' }, { key });
      assert.equal(reused.status, 422);
      assert.equal(reused.body.code, 'idempotency_key_reused');
      const otherPatient = await send(byName('Margaret Thompson').id, { body: 'Idempotent hello' }, { key });
      assert.equal(otherPatient.status, 422);

      // Concurrent duplicates (a double click) create one entry.
      const concurrentKey = `key-${kind}-2`;
      const results = await Promise.all([1, 2, 3, 4].map(() => send(james.id, { body: 'Double click' }, { key: concurrentKey })));
      assert.deepEqual(results.map((r) => r.status), [202, 202, 202, 202]);
      assert.equal(new Set(results.map((r) => r.body.id)).size, 1);

      await waitUntil(async () => (await entry(first.body.id)).status === 'delivered', 5000, 'delivery');
      await waitUntil(async () => (await entry(results[0]!.body.id)).status === 'delivered', 5000, 'delivery');
      const inbox = await phoneMessages(james.phone!);
      assert.equal(inbox.filter((m) => m.body === 'Idempotent hello').length, 1);
      assert.equal(inbox.filter((m) => m.body === 'Double click').length, 1);
      // A malformed key is refused.
      const bad = await send(james.id, { body: 'x' }, { key: 'a'.repeat(256) });
      assert.equal(bad.status, 422);
    });

    test('Idempotency-Keys are remembered for a day, then forgotten by the sweep', async () => {
      const james = byName("James O'Connor");
      const [fresh, stale] = [`key-${kind}-fresh`, `key-${kind}-stale`];
      const first = await send(james.id, { body: 'Kept key' }, { key: fresh });
      const old = await send(james.id, { body: 'Old key' }, { key: stale });
      assert.equal(first.status, 202);
      assert.equal(old.status, 202);
      await server.db.knex('idempotency_keys').where({ key: stale }).update({ created_at: new Date(Date.now() - 25 * 3600_000) });
      assert.equal(await server.app.services.sms.expireIdempotencyKeys(), 1);
      assert.deepEqual(await server.db.knex('idempotency_keys').whereIn('key', [fresh, stale]).pluck('key'), [fresh]);
      // Within the day the key still replays; past it, the same key is a new request.
      const replay = await send(james.id, { body: 'Kept key' }, { key: fresh });
      assert.equal(replay.body.id, first.body.id);
      const afterExpiry = await send(james.id, { body: 'Old key' }, { key: stale });
      assert.equal(afterExpiry.status, 202);
      assert.notEqual(afterExpiry.body.id, old.body.id);
    });

    test('a reply from the phone is stored as inbound and pushed live', async () => {
      const margaret = byName('Margaret Thompson');
      const events = await openEvents(server, lee);
      try {
        const res = await api(server, '/sandbox/api/sms', { body: { from: margaret.phone, body: 'Thanks, see you Tuesday' } });
        assert.equal(res.status, 201);
        await events.waitFor((e) => e.some((x) => x.event === 'correspondence.created' && JSON.parse(x.data).direction === 'inbound'));
        // Only the inbound one: an earlier test's outbound entry may still be on its way to new streams.
        const inbound = events.events.filter((x) => x.event === 'correspondence.created').map((x) => JSON.parse(x.data) as Entry);
        const created = inbound.find((e) => e.direction === 'inbound')!;
        assert.equal(created.patientId, margaret.id);
        assert.equal(created.status, 'received');
        assert.equal(created.practitionerId, null);
        assert.equal(created.body, 'Thanks, see you Tuesday');
        assert.equal(created.contact, margaret.phone);
        const inbox = await phoneMessages(margaret.phone!);
        assert.equal(inbox.at(-1)!.from, margaret.phone);
        assert.equal(inbox.at(-1)!.to, '+61491571266');
      } finally {
        events.close();
      }
    });

    test('STOP (any case, trimmed) opts out, START opts back in; other text does not', async () => {
      const aiko = byName('Aiko Tanaka');
      const patel = await server.token('dr-patel');
      const events = await openEvents(server, patel);
      const optedOut = async () => (await api<Patient>(server, `/api/v1/patients/${aiko.id}`, { token: lee })).body.optedOut;
      const text = (body: string) => api(server, '/sandbox/api/sms', { body: { from: aiko.phone, body, to: '+61491571266' } });
      try {
        for (const word of ['  stop ', 'STOPALL', 'Unsubscribe', 'cancel', 'END', 'quit', 'revoke', 'OptOut']) {
          await text(word);
          assert.equal(await optedOut(), true, word);
          assert.equal((await send(aiko.id, { body: 'still there?' })).status, 409);
          await text(['START', 'yes', ' Unstop'][word.length % 3]!);
          assert.equal(await optedOut(), false, word);
        }
        await events.waitFor((e) => e.filter((x) => x.event === 'patient.updated').length >= 16);
        assert.equal(JSON.parse(events.events.find((x) => x.event === 'patient.updated')!.data).optedOut, true);
        for (const notKeyword of ['stop please', 'STOP!', 'Please stop texting me? no just kidding']) {
          await text(notKeyword);
          assert.equal(await optedOut(), false, notKeyword);
        }
        assert.equal((await send(aiko.id, { body: 'welcome back' })).status, 202);
      } finally {
        events.close();
      }
    });

    test('HELP gets the clinic’s help reply through the outbox', async () => {
      const lucas = byName('Lucas Silva');
      await api(server, '/sandbox/api/sms', { body: { from: lucas.phone, body: 'help', to: '+61491571266' } });
      const inbox = await waitUntil(async () => {
        const items = await phoneMessages(lucas.phone!);
        return items.some((m) => m.body.startsWith('Demo Clinic: reply STOP') && m.status === 'delivered') && items;
      }, 5000, 'help reply');
      assert.equal(inbox.filter((m) => m.body.startsWith('Demo Clinic: reply STOP')).length, 1);
      const history = (await api<{ items: Entry[] }>(server, `/api/v1/correspondence?patientId=${lucas.id}&channel=sms&limit=3`, { token: lee })).body.items;
      assert.equal(history[0]!.direction, 'outbound');
      assert.equal(history[0]!.practitionerId, null);
      assert.match(history[0]!.body!, /^Demo Clinic: reply STOP/);
      assert.equal(history[1]!.direction, 'inbound');
      assert.equal(history[1]!.body, 'help');
    });

    test('Twilio’s own STOP / START confirmations reach the phone, not the history; HELP gets only the clinic’s reply', async () => {
      const unsubscribed = 'You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.';
      const resubscribed = 'You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.';
      const clinic = '+61491571266';
      const noah = byName('Noah Williams'); // opted out in the demo
      const text = async (from: string, body: string) => {
        const before = (await phoneMessages(from)).length;
        assert.equal((await api(server, '/sandbox/api/sms', { body: { from, body, to: clinic } })).status, 201);
        // Twilio's reply is in the inbox by the time the text is accepted.
        return (await phoneMessages(from)).slice(before + 1);
      };
      const confirmation = (body: string, phone = noah.phone!) => ({ from: clinic, to: phone, body, status: 'delivered', clinicName: 'Demo Clinic' });
      const pick = (m: { from: string; to: string; body: string; status: string; clinicName: string | null }) => ({ from: m.from, to: m.to, body: m.body, status: m.status, clinicName: m.clinicName });

      assert.deepEqual((await text(noah.phone!, 'Start')).map(pick), [confirmation(resubscribed)]);
      assert.deepEqual((await text(noah.phone!, ' unstop ')).map(pick), [confirmation(resubscribed)]);
      // HELP: Twilio adds nothing; the clinic's help reply is the only answer.
      await text(noah.phone!, 'HELP');
      const afterHelp = await waitUntil(async () => {
        const items = await phoneMessages(noah.phone!);
        const help = items.map((m) => m.body).lastIndexOf('HELP');
        return items[help + 1]?.status === 'delivered' && items.slice(help + 1);
      }, 5000, 'the clinic’s help reply');
      assert.equal(afterHelp.length, 1);
      assert.match(afterHelp[0]!.body, /^Demo Clinic: reply STOP/);
      for (const word of ['STOP', 'quit']) assert.deepEqual((await text(noah.phone!, word)).map(pick), [confirmation(unsubscribed)], word);
      assert.deepEqual(await text(noah.phone!, 'stop please'), [], 'not a keyword');

      // Twilio answers whoever texts its number, patient or not.
      const stranger = '+61491570997';
      assert.deepEqual((await text(stranger, 'STOP')).map(pick), [confirmation(unsubscribed, stranger)]);

      // Twilio's replies are not ours: not in the history, not sent through the outbox.
      for (const body of [unsubscribed, resubscribed]) {
        assert.equal((await server.db.knex('correspondence').where({ body })).length, 0);
      }
      const history = (await api<{ items: Entry[] }>(server, `/api/v1/correspondence?patientId=${noah.id}&channel=sms&limit=3`, { token: lee })).body.items;
      assert.deepEqual(history.map((e) => [e.direction, e.body]), [['inbound', 'stop please'], ['inbound', 'quit'], ['inbound', 'STOP']]);
      assert.equal((await api<Patient>(server, `/api/v1/patients/${noah.id}`, { token: lee })).body.optedOut, true);
    });

    test('a text from an unknown number is accepted and stored nowhere in the clinic', async () => {
      const before = Number((await server.db.knex('correspondence').count({ n: '*' }))[0]!.n);
      for (const body of ['STOP', 'Who is this?']) {
        const res = await api(server, '/sandbox/api/sms', { body: { from: '+61491570999', body, to: '+61491571266' } });
        assert.equal(res.status, 201);
      }
      assert.equal(Number((await server.db.knex('correspondence').count({ n: '*' }))[0]!.n), before);
    });

    test('a plain reply from a number two patients share goes to the one texted last, once', async () => {
      const shared = '+61491570444';
      assert.equal((await setPhone('SHARED-1', 'Shared Parent', shared)).status < 300, true);
      assert.equal((await setPhone('SHARED-2', 'Shared Child', shared)).status < 300, true);
      const knex = server.db.knex;
      const [parent, child] = await Promise.all(['SHARED-1', 'SHARED-2'].map((id) => knex('patients').where({ external_id: id }).first()));
      // The clinic texted the child last.
      for (const [patient, minutesAgo] of [[parent, 10], [child, 5]] as const) {
        await knex('correspondence').insert({
          tenant_id: patient.tenant_id, patient_id: patient.id, channel: 'sms', direction: 'outbound', status: 'delivered',
          body: 'Your appointment is tomorrow', contact: shared, created_at: new Date(Date.now() - minutesAgo * 60_000),
        });
      }
      const res = await api(server, '/sandbox/api/sms', { body: { from: shared, body: 'Which of us is this for?', to: '+61491571266' } });
      assert.equal(res.status, 201);
      const stored = await knex('correspondence').where({ direction: 'inbound', body: 'Which of us is this for?' });
      assert.deepEqual(stored.map((e: { patient_id: string }) => e.patient_id), [child.id]);
    });

    test('a permanent provider error marks the entry failed with its code, without retrying', async () => {
      const fatima = byName('Fatima Rahman');
      // Twilio's magic "invalid number": the sandbox refuses it with 21211, as Twilio does.
      await setPhone(fatima.externalId, fatima.name, '+15005550001');
      try {
        const res = await send(fatima.id, { body: 'To an invalid number' });
        assert.equal(res.status, 202);
        const failed = await waitUntil(async () => {
          const row = await entry(res.body.id);
          return row.status === 'failed' && row;
        }, 5000, 'failure');
        assert.equal(failed.error_code, '21211');
        const row = await server.db.knex('outbox').where({ correspondence_id: res.body.id }).first();
        assert.equal(row.state, 'failed');
        assert.equal(row.attempts, 1);
      } finally {
        await setPhone(fatima.externalId, fatima.name, fatima.phone);
      }
    });

    test('sandbox test API refuses bad input', async () => {
      assert.equal((await api(server, '/sandbox/api/messages?phone=0491570006')).status, 422);
      assert.equal((await api(server, '/sandbox/api/sms', { body: { from: '+61491570006', body: '' } })).status, 422);
      assert.equal((await api(server, '/sandbox/api/sms', { body: { from: '+61491570888', body: 'hi' } })).status, 422);
    });
  });
}
