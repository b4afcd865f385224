import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import twilio from 'twilio';
import { isValidTwilioSignature, isValidTwilioBodySignature, parseWebhookForm, twilioSignature } from '../src/providers/twilio-signature.js';
import { api, databases, FAST_OUTBOX_ENV, openEvents, startServer, startTwilioMock, TEST_TWILIO, twilioEnv, waitUntil, type TestServer } from './helpers.js';

describe('Twilio webhook signatures', () => {
  // Twilio's published vectors (twilio-node's tests), through our wrapper.
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };

  test('form parameters: the published vector validates, any change does not', () => {
    assert.equal(isValidTwilioSignature('12345', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', url, params), true);
    assert.equal(twilioSignature('12345', url, params), 'RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    assert.equal(isValidTwilioSignature('12345', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', url, { ...params, Digits: '1235' }), false);
    assert.equal(isValidTwilioSignature('12345', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', url.replace('foo=1', 'foo=2'), params), false);
    assert.equal(isValidTwilioSignature('54321', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', url, params), false);
    assert.equal(isValidTwilioSignature('12345', undefined, url, params), false);
    assert.equal(isValidTwilioSignature('12345', 'not base64 at all', url, params), false);
  });

  test('a signature of the URL with or without its default port validates against the other (the library\'s variants, after the URL as configured)', () => {
    const withPort = url.replace('mycompany.com', 'mycompany.com:443');
    assert.equal(isValidTwilioSignature('12345', twilioSignature('12345', withPort, params), url, params), true);
    assert.equal(isValidTwilioSignature('12345', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', withPort, params), true);
    assert.equal(isValidTwilioSignature('12345', twilioSignature('12345', withPort.replace(':443', ':8443'), params), url, params), false);
  });

  test('JSON body: the published bodySHA256 vector validates', () => {
    const body = '{"property": "value", "boolean": true}';
    const bodyUrl = `${url}&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620`;
    assert.equal(isValidTwilioBodySignature('12345', 'a9nBmqA0ju/hNViExpshrM61xv4=', bodyUrl, body), true);
    assert.equal(isValidTwilioBodySignature('12345', 'a9nBmqA0ju/hNViExpshrM61xv4=', bodyUrl, body.replace('true', 'false')), false);
  });

  test('form bodies are read flat, repeated fields as arrays', () => {
    assert.deepEqual(parseWebhookForm('To=%2B61491570006&Body=a+b%26c&X=1&X=2'), { To: '+61491570006', Body: 'a b&c', X: ['1', '2'] });
  });
});

for (const kind of databases()) {
  describe(`Twilio provider against a mock of its REST API (${kind})`, () => {
    let server: TestServer;
    let mock: Awaited<ReturnType<typeof startTwilioMock>>;
    let lee: string;
    let patients: Array<{ id: string; name: string; externalId: string; phone: string | null; optedOut: boolean }>;
    before(async () => {
      mock = await startTwilioMock();
      server = await startServer(kind, { env: { ...FAST_OUTBOX_ENV, ...twilioEnv(mock.url) } });
      lee = await server.token('dr-lee');
      patients = (await api(server, '/api/v1/patients', { token: lee })).body.items;
    });
    after(async () => {
      await server.close();
      await mock.close();
    });
    const byName = (name: string) => patients.find((p) => p.name === name)!;
    const send = (name: string, body: string) => api(server, `/api/v1/patients/${byName(name).id}/messages`, { token: lee, body: { body } });
    const entry = async (id: string) => (await server.db.knex('correspondence').where({ id }).first()) as { id: string; status: string; provider_sid: string | null; error_code: string | null };
    const eventCount = async (id: string) => Number((await server.db.knex('correspondence_events').where({ correspondence_id: id }).count({ n: '*' }))[0]!.n);
    const sentFor = (id: string) =>
      waitUntil(async () => {
        const row = await entry(id);
        return row.provider_sid !== null && row;
      }, 5000, 'provider SID');
    const auditCount = async () => Number((await server.db.knex('audit_log').count({ n: '*' }))[0]!.n);

    /** Posts a webhook as Twilio would: form-encoded, signed over BASE_URL + path + query. */
    const webhook = async (path: string, params: Record<string, string>, options: { signature?: string; signedUrl?: string } = {}) => {
      const signature = options.signature ?? twilioSignature(TEST_TWILIO.authToken, options.signedUrl ?? TEST_TWILIO.baseUrl + path, params);
      const res = await fetch(server.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        body: new URLSearchParams(params).toString(),
      });
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    };
    const statusCallback = (ref: string, sid: string, status: string, extra: Record<string, string> = {}) =>
      webhook(`/webhooks/twilio/sms-status?ref=${ref}`, {
        AccountSid: TEST_TWILIO.accountSid,
        MessageSid: sid,
        SmsSid: sid,
        MessageStatus: status,
        SmsStatus: status,
        To: '+61491570006',
        From: '+61491571266',
        ApiVersion: '2010-04-01',
        ...extra,
      });
    const inbound = (from: string, body: string, sid: string, to = '+61491571266') =>
      webhook('/webhooks/twilio/sms-inbound', {
        AccountSid: TEST_TWILIO.accountSid,
        MessageSid: sid,
        SmsSid: sid,
        From: from,
        To: to,
        Body: body,
        NumMedia: '0',
        ApiVersion: '2010-04-01',
      });

    test('the request Twilio receives: path, auth, To/From/Body, and a status callback URL with no PHI', async () => {
      const session = await api(server, '/api/v1/session', { token: lee });
      assert.equal(session.body.provider, 'twilio');
      const margaret = byName('Margaret Thompson');
      const res = await send('Margaret Thompson', 'Hello from the clinic');
      assert.equal(res.status, 202);
      const row = await sentFor(res.body.id);
      const creates = mock.creates();
      assert.equal(creates.length, 1);
      const request = creates[0]!;
      assert.equal(request.path, `/2010-04-01/Accounts/${TEST_TWILIO.accountSid}/Messages.json`);
      assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.equal(request.headers.authorization, `Basic ${Buffer.from(`${TEST_TWILIO.accountSid}:${TEST_TWILIO.authToken}`).toString('base64')}`);
      assert.deepEqual([...request.form.keys()].sort(), ['Body', 'From', 'StatusCallback', 'To']);
      assert.equal(request.form.get('To'), margaret.phone);
      assert.equal(request.form.get('From'), '+61491571266', 'the tenant’s own number');
      assert.equal(request.form.get('Body'), 'Hello from the clinic');
      const callback = request.form.get('StatusCallback')!;
      assert.equal(callback, `${TEST_TWILIO.baseUrl}/webhooks/twilio/sms-status?ref=${res.body.id}`);
      for (const phi of [margaret.phone!, margaret.phone!.slice(1), 'Margaret', 'Thompson', margaret.externalId, 'Hello']) {
        assert.ok(!callback.includes(phi), `callback URL must not contain ${phi}`);
      }
      assert.equal(row.provider_sid, mock.messages[0]!.sid);
      assert.equal(row.status, 'queued');
    });

    test('status webhooks: applied in order, recorded once, never moving a terminal status back', async () => {
      const res = await send('Margaret Thompson', 'Status ordering');
      const { provider_sid: sid } = await sentFor(res.body.id);
      const events = await openEvents(server, lee);
      try {
        const ok = await statusCallback(res.body.id, sid!, 'sent');
        assert.equal(ok.status, 200);
        assert.match(ok.type!, /^text\/xml/);
        assert.match(ok.text, /<Response\/>/);
        assert.equal((await entry(res.body.id)).status, 'sent');
        await statusCallback(res.body.id, sid!, 'delivered');
        assert.equal((await entry(res.body.id)).status, 'delivered');
        const events1 = await eventCount(res.body.id);
        // Duplicates, late arrivals and contradictions change nothing.
        for (const late of ['delivered', 'delivered', 'sent', 'queued', 'sending', 'undelivered', 'failed']) {
          const r = await statusCallback(res.body.id, sid!, late);
          assert.equal(r.status, 200);
          assert.equal((await entry(res.body.id)).status, 'delivered', late);
        }
        const statuses = await server.db.knex('correspondence_events').where({ correspondence_id: res.body.id }).pluck('status');
        assert.equal(statuses.filter((s: string) => s === 'delivered').length, 1, 'a duplicate is recorded once');
        assert.ok(statuses.length >= events1);
        await events.waitFor((e) => e.some((x) => x.event === 'correspondence.updated' && JSON.parse(x.data).status === 'delivered'));
        await new Promise((r) => setTimeout(r, 150));
        const updates = events.events.filter((x) => x.event === 'correspondence.updated' && JSON.parse(x.data).id === res.body.id).map((x) => JSON.parse(x.data).status);
        assert.deepEqual(updates, ['sent', 'delivered']);
      } finally {
        events.close();
      }
    });

    test('out of order: delivered before sent leaves it delivered; a found-by-SID callback without ref works', async () => {
      const res = await send('Aiko Tanaka', 'Out of order');
      const { provider_sid: sid } = await sentFor(res.body.id);
      await webhook('/webhooks/twilio/sms-status', { MessageSid: sid!, MessageStatus: 'delivered', AccountSid: TEST_TWILIO.accountSid });
      await statusCallback(res.body.id, sid!, 'sent');
      assert.equal((await entry(res.body.id)).status, 'delivered');
    });

    test('undelivered records the error code; a callback for another SID does not touch the entry', async () => {
      const res = await send('Aiko Tanaka', 'Will not arrive');
      const { provider_sid: sid } = await sentFor(res.body.id);
      await statusCallback(res.body.id, 'SM' + 'f'.repeat(32), 'failed', { ErrorCode: '30003' });
      assert.equal((await entry(res.body.id)).status, 'queued');
      await statusCallback(res.body.id, sid!, 'undelivered', { ErrorCode: '30003' });
      const row = await entry(res.body.id);
      assert.equal(row.status, 'undelivered');
      assert.equal(row.error_code, '30003');
      const unknown = await statusCallback('00000000-0000-4000-8000-000000000000', 'SM' + 'e'.repeat(32), 'delivered');
      assert.equal(unknown.status, 200);
    });

    test('a bad, missing or wrong-URL signature is 403 and writes nothing', async () => {
      const res = await send('James O\'Connor', 'Signed only');
      const { provider_sid: sid } = await sentFor(res.body.id);
      const james = byName("James O'Connor");
      const before = { events: await eventCount(res.body.id), audit: await auditCount(), rows: Number((await server.db.knex('correspondence').count({ n: '*' }))[0]!.n) };
      const path = `/webhooks/twilio/sms-status?ref=${res.body.id}`;
      const params = { MessageSid: sid!, MessageStatus: 'delivered' };
      const attempts = [
        await webhook(path, params, { signature: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }),
        await webhook(path, params, { signature: '' }),
        // Signed for the URL the request reached, not the public BASE_URL Twilio uses.
        await webhook(path, params, { signedUrl: server.url + path }),
        // Signed for another entry's callback URL.
        await webhook(path, params, { signedUrl: `${TEST_TWILIO.baseUrl}/webhooks/twilio/sms-status?ref=00000000-0000-4000-8000-000000000000` }),
        await webhook('/webhooks/twilio/sms-inbound', { From: james.phone!, To: '+61491571266', Body: 'STOP', MessageSid: 'SM' + 'a'.repeat(32) }, { signature: 'bad' }),
      ];
      for (const attempt of attempts) {
        assert.equal(attempt.status, 403);
        assert.match(attempt.type!, /application\/problem\+json/);
        assert.equal(JSON.parse(attempt.text).code, 'forbidden');
      }
      // A body changed after signing.
      const signature = twilioSignature(TEST_TWILIO.authToken, TEST_TWILIO.baseUrl + path, params);
      const tampered = await fetch(server.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        body: new URLSearchParams({ ...params, MessageStatus: 'failed' }).toString(),
      });
      assert.equal(tampered.status, 403);
      // JSON is not what Twilio sends: not parsed, so not signed.
      const json = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twilio-signature': signature }, body: JSON.stringify(params) });
      assert.equal(json.status, 403);
      assert.equal(await eventCount(res.body.id), before.events);
      assert.equal(await auditCount(), before.audit);
      assert.equal(Number((await server.db.knex('correspondence').count({ n: '*' }))[0]!.n), before.rows);
      assert.equal((await entry(res.body.id)).status, 'queued');
      assert.equal((await api(server, `/api/v1/patients/${james.id}`, { token: lee })).body.optedOut, false);
    });

    test('inbound: stored once per MessageSid, STOP opts out, START opts in, HELP replies through Twilio', async () => {
      const lucas = byName('Lucas Silva');
      const events = await openEvents(server, lee);
      try {
        const reply = await inbound(lucas.phone!, 'Running late, sorry', 'SM' + '1'.repeat(32));
        assert.equal(reply.status, 200);
        assert.match(reply.type!, /^text\/xml/);
        assert.equal(reply.text, '<?xml version="1.0" encoding="UTF-8"?><Response/>');
        await inbound(lucas.phone!, 'Running late, sorry', 'SM' + '1'.repeat(32));
        const stored = await server.db.knex('correspondence').where({ provider_sid: 'SM' + '1'.repeat(32) });
        assert.equal(stored.length, 1);
        assert.equal(stored[0].direction, 'inbound');
        assert.equal(stored[0].status, 'received');
        assert.equal(stored[0].patient_id, lucas.id);

        await inbound(lucas.phone!, ' Stop ', 'SM' + '2'.repeat(32));
        await inbound(lucas.phone!, ' Stop ', 'SM' + '2'.repeat(32));
        assert.equal((await api(server, `/api/v1/patients/${lucas.id}`, { token: lee })).body.optedOut, true);
        assert.equal((await send('Lucas Silva', 'are you there')).status, 409);
        await events.waitFor((e) => e.some((x) => x.event === 'patient.updated' && JSON.parse(x.data).optedOut === true));
        await inbound(lucas.phone!, 'unstop', 'SM' + '3'.repeat(32));
        assert.equal((await api(server, `/api/v1/patients/${lucas.id}`, { token: lee })).body.optedOut, false);

        const createsBefore = mock.creates().length;
        await inbound(lucas.phone!, 'HELP', 'SM' + '4'.repeat(32));
        await inbound(lucas.phone!, 'HELP', 'SM' + '4'.repeat(32));
        await waitUntil(() => mock.creates().length > createsBefore, 5000, 'help reply');
        await new Promise((r) => setTimeout(r, 200));
        const helps = mock.creates().slice(createsBefore);
        assert.equal(helps.length, 1, 'a repeated HELP webhook replies once');
        assert.equal(helps[0]!.form.get('To'), lucas.phone);
        assert.match(helps[0]!.form.get('Body')!, /^Demo Clinic: reply STOP/);
      } finally {
        events.close();
      }
    });

    test('inbound from an unknown number or to an unknown number: 200 empty TwiML, nothing stored', async () => {
      const before = Number((await server.db.knex('correspondence').count({ n: '*' }))[0]!.n);
      for (const [from, to] of [['+61491570999', '+61491571266'], [byName('Margaret Thompson').phone!, '+61491579999']] as const) {
        const res = await inbound(from, 'STOP', 'SM' + Math.random().toString(16).slice(2).padEnd(32, '0'), to);
        assert.equal(res.status, 200);
        assert.match(res.text, /<Response\/>/);
      }
      assert.equal(Number((await server.db.knex('correspondence').count({ n: '*' }))[0]!.n), before);
      assert.equal((await api(server, `/api/v1/patients/${byName('Margaret Thompson').id}`, { token: lee })).body.optedOut, false);
    });

    test('ambiguous failure: Twilio created the message but answered 500 — looked up, never sent twice', async () => {
      mock.next({ kind: 'created-then-500' });
      const before = mock.creates().length;
      const res = await send('Fatima Rahman', 'Exactly once please');
      const row = await sentFor(res.body.id);
      assert.equal(mock.creates().length - before, 1, 'one create only');
      const created = mock.messages.find((m) => m.body === 'Exactly once please')!;
      assert.equal(row.provider_sid, created.sid);
      const lookups = mock.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/Messages.json'));
      assert.ok(lookups.length >= 1);
      assert.equal(lookups.at(-1)!.query.get('To'), byName('Fatima Rahman').phone);
      assert.equal(lookups.at(-1)!.query.get('From'), '+61491571266');
      // The SID is recorded first; the outbox row is marked done by a later statement (batched with the turn's other sends).
      const outbox = await waitUntil(async () => {
        const row = await server.db.knex('outbox').where({ correspondence_id: res.body.id }).first();
        return row.state !== 'pending' && row;
      }, 5000, 'outbox row settled');
      assert.equal(outbox.state, 'done');
      assert.equal(outbox.attempts, 2);
    });

    test('ambiguous failure where nothing was created: looked up, then sent once', async () => {
      mock.next({ kind: 'error', status: 503 });
      const before = mock.creates().length;
      const res = await send('Fatima Rahman', 'Second try sends');
      await sentFor(res.body.id);
      assert.equal(mock.creates().length - before, 2);
      assert.equal(mock.messages.filter((m) => m.body === 'Second try sends').length, 1);
    });

    test('429 is retried no sooner than Retry-After', async () => {
      mock.next({ kind: 'error', status: 429, code: 20429, retryAfter: '1' });
      const started = Date.now();
      const res = await send('Margaret Thompson', 'After the rate limit');
      await sentFor(res.body.id);
      const creates = mock.creates().filter((r) => r.form.get('Body') === 'After the rate limit');
      assert.equal(creates.length, 2);
      assert.ok(Date.now() - started >= 1000, 'waited for Retry-After');
      assert.equal(mock.messages.filter((m) => m.body === 'After the rate limit').length, 1);
    });

    test('a permanent Twilio error fails the entry with its code and is not retried', async () => {
      mock.next({ kind: 'error', status: 400, code: 21610 });
      const res = await send('Aiko Tanaka', 'To an unsubscribed handset');
      const row = await waitUntil(async () => {
        const r = await entry(res.body.id);
        return r.status === 'failed' && r;
      }, 5000, 'failure');
      assert.equal(row.error_code, '21610');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(mock.creates().filter((r) => r.form.get('Body') === 'To an unsubscribed handset').length, 1);
      const updated = (await api(server, `/api/v1/correspondence?patientId=${byName('Aiko Tanaka').id}&limit=1`, { token: lee })).body.items[0];
      assert.equal(updated.status, 'failed');
      assert.equal(updated.errorCode, '21610');
    });

    test('the sandbox API does not exist when Twilio is the provider', async () => {
      assert.equal((await api(server, '/sandbox/api/messages?phone=%2B61491570006')).status, 404);
      assert.equal((await api(server, '/sandbox/phone')).status, 404);
    });
  });
}

describe('Twilio client', () => {
  test('is the real twilio package', () => {
    assert.equal(typeof twilio.validateRequest, 'function');
  });
});
