import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { twilioSignature } from '../src/providers/twilio-signature.js';
import { api, databases, FAST_OUTBOX_ENV, openEvents, startServer, TEST_TWILIO, twilioEnv, waitUntil, type TestServer } from './helpers.js';
import { MESSAGE_CREATE, PARTICIPANT_CREATE, PARTICIPANT_UPDATE, ROOM_CREATE, startTwilioWithFaults, type TwilioFault } from './twilio-faults.js';

/**
 * Twilio misbehaving: rate limits with Retry-After, 500s and 503s, answers
 * that never come (our request timeout, TWILIO_TIMEOUT_MS, ends them) and
 * connections reset mid-request, each either before Twilio acted or after
 * (the ambiguous case). SMS go through the outbox: retried with back-off,
 * looked up before any resend, sent exactly once; permanent refusals fail the
 * entry with a readable reason. Calls and rooms answer 502 problem+json with
 * nothing half-written, and a retry works. (twilio.test.ts covers a 429 with
 * Retry-After, a 503 and a created-then-500 on their own.)
 */

/** Long enough that a held request is still waiting while a test looks; short enough to keep the suite quick. */
const TIMEOUT_MS = 2500;
const TWIML_APP_SID = 'AP' + '7'.repeat(32);
const API_KEY = { TWILIO_API_KEY_SID: 'SK' + '5'.repeat(32), TWILIO_API_KEY_SECRET: 'voice-api-key-secret-0123456789' };

for (const kind of databases()) {
  describe(`Twilio faults (${kind})`, () => {
    let twilio: Awaited<ReturnType<typeof startTwilioWithFaults>>;
    let server: TestServer;
    let lee: string;
    let patients: Array<{ id: string; name: string; phone: string | null }>;
    before(async () => {
      twilio = await startTwilioWithFaults();
      server = await startServer(kind, {
        env: {
          ...FAST_OUTBOX_ENV,
          ...twilioEnv(twilio.url),
          ...API_KEY,
          TWILIO_TWIML_APP_SID: TWIML_APP_SID,
          TWILIO_TIMEOUT_MS: String(TIMEOUT_MS),
          OUTBOX_MAX_ATTEMPTS: '5',
        },
      });
      lee = await server.token('dr-lee');
      patients = (await api(server, '/api/v1/patients', { token: lee })).body.items;
    });
    after(async () => {
      await server.close();
      await twilio.close();
    });

    const byName = (name: string) => patients.find((p) => p.name === name)!;
    const count = async (table: string, where: Record<string, unknown> = {}) => Number((await server.db.knex(table).where(where).count({ n: '*' }))[0]!.n);
    const entry = async (id: string) => (await server.db.knex('correspondence').where({ id }).first()) as { status: string; provider_sid: string | null; error_code: string | null };
    const outboxRow = async (id: string) => (await server.db.knex('outbox').where({ correspondence_id: id }).first()) as { state: string; attempts: number };

    const send = async (name: string, body: string) => {
      const res = await api(server, `/api/v1/patients/${byName(name).id}/messages`, { token: lee, body: { body } });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      return res.body.id as string;
    };
    const settled = (id: string) =>
      waitUntil(async () => {
        const row = await outboxRow(id);
        return (row?.state === 'done' || row?.state === 'failed') && row;
      }, 15_000, 'the outbox row to finish');

    /** What reached Twilio for one message body: creates seen (faulted or not), messages Twilio holds, lookups in between. */
    const traffic = (body: string, since: number) => {
      const requests = twilio.seen.slice(since);
      return {
        creates: requests.filter((r) => r.method === 'POST' && MESSAGE_CREATE.test(r.path) && r.form.get('Body') === body),
        held: twilio.messages.messages.filter((m) => m.body === body),
        /** The request kinds in order: C for a create of this body, L for a lookup. */
        sequence: requests
          .filter((r) => (r.method === 'POST' && MESSAGE_CREATE.test(r.path) && r.form.get('Body') === body) || (r.method === 'GET' && /\/Messages/.test(r.path)))
          .map((r) => (r.method === 'POST' ? 'C' : 'L'))
          .join(''),
      };
    };

    const cases: Array<{ name: string; fault: TwilioFault; creates: number; sequence: string }> = [
      { name: 'a timeout before Twilio acted: looked up (nothing), then sent once', fault: { kind: 'hang' }, creates: 2, sequence: 'CLC' },
      { name: 'a timeout after Twilio created it: looked up (found), never sent again', fault: { kind: 'hang', reached: true }, creates: 1, sequence: 'CL' },
      { name: 'a connection reset before Twilio acted: looked up, then sent once', fault: { kind: 'reset' }, creates: 2, sequence: 'CLC' },
      { name: 'a connection reset after Twilio created it: looked up, never sent again', fault: { kind: 'reset', reached: true }, creates: 1, sequence: 'CL' },
      { name: 'a 500 after Twilio created it: looked up, never sent again', fault: { kind: 'status', status: 500, code: 20500, reached: true }, creates: 1, sequence: 'CL' },
      { name: 'a 429 (nothing sent): retried without a lookup, sent once', fault: { kind: 'status', status: 429, code: 20429, retryAfter: '0' }, creates: 2, sequence: 'CC' },
    ];
    for (const { name, fault, creates, sequence } of cases) {
      test(`SMS: ${name}`, async () => {
        const since = twilio.seen.length;
        const body = `Fault ${fault.kind}${fault.reached ? ' reached' : ''} ${'status' in fault ? fault.status : ''} ${Math.random()}`;
        twilio.inject({ method: 'POST', path: MESSAGE_CREATE, fault });
        const id = await send('Margaret Thompson', body);
        const row = await settled(id);
        assert.equal(row.state, 'done');
        const seen = traffic(body, since);
        assert.equal(seen.held.length, 1, 'Twilio holds the message exactly once');
        assert.equal(seen.creates.length, creates);
        assert.equal(seen.sequence, sequence, 'an ambiguous failure is looked up before anything is sent again');
        const stored = await entry(id);
        assert.equal(stored.provider_sid, seen.held[0]!.sid);
        assert.equal(stored.status, 'queued');
        assert.equal(stored.error_code, null);
        assert.equal(row.attempts, 2);
      });
    }

    test('SMS: one send Twilio never answers holds up only its own slot: the texts behind it go out meanwhile', async () => {
      const since = twilio.seen.length;
      const stuck = `Stuck ${Math.random()}`;
      twilio.inject({ method: 'POST', path: MESSAGE_CREATE, fault: { kind: 'hang' } });
      const stuckId = await send('Margaret Thompson', stuck);
      await waitUntil(() => twilio.unanswered() === 1, 5000, 'the stuck send to be held');
      const others = [`Behind 1 ${Math.random()}`, `Behind 2 ${Math.random()}`];
      for (const body of others) await send('Aiko Tanaka', body);
      // Both reach Twilio while the first is still waiting for its answer (this suite's timeout is long).
      await waitUntil(() => others.every((body) => twilio.messages.messages.some((m) => m.body === body)), 5000, 'the texts behind it');
      assert.equal(twilio.unanswered(), 1, 'the stuck send is still unanswered');
      assert.equal(traffic(stuck, since).sequence, 'C');
      const row = await settled(stuckId);
      assert.equal(row.state, 'done');
      assert.equal(traffic(stuck, since).held.length, 1);
    });

    test('SMS: a storm (429 with Retry-After, 503, reset, timeout after Twilio acted) ends with the message sent once', async () => {
      const since = twilio.seen.length;
      const body = `Storm ${Math.random()}`;
      twilio.inject(
        { method: 'POST', path: MESSAGE_CREATE, fault: { kind: 'status', status: 429, code: 20429, retryAfter: '1' } },
        { method: 'POST', path: MESSAGE_CREATE, fault: { kind: 'status', status: 503, code: 20503 } },
        { method: 'POST', path: MESSAGE_CREATE, fault: { kind: 'reset' } },
        { method: 'POST', path: MESSAGE_CREATE, fault: { kind: 'hang', reached: true } },
      );
      const id = await send('Aiko Tanaka', body);
      const row = await settled(id);
      assert.equal(row.state, 'done');
      assert.equal(row.attempts, 5, 'four failures, then the lookup that found it');
      const seen = traffic(body, since);
      assert.equal(seen.held.length, 1);
      assert.equal(seen.creates.length, 4);
      assert.equal(seen.sequence, 'CCLCLCL');
      assert.equal((await entry(id)).provider_sid, seen.held[0]!.sid);
    });

    test('SMS: the lookup itself times out: asked again later, still sent once', async () => {
      const since = twilio.seen.length;
      const body = `Lookup fails ${Math.random()}`;
      twilio.inject(
        { method: 'POST', path: MESSAGE_CREATE, fault: { kind: 'hang', reached: true } },
        { method: 'GET', path: MESSAGE_CREATE, fault: { kind: 'hang' } },
        { method: 'GET', path: MESSAGE_CREATE, fault: { kind: 'reset' } },
      );
      const id = await send('Aiko Tanaka', body);
      const row = await settled(id);
      assert.equal(row.state, 'done');
      const seen = traffic(body, since);
      assert.equal(seen.held.length, 1);
      assert.equal(seen.creates.length, 1, 'never sent while its fate was unknown');
      assert.equal(seen.sequence, 'CLLL');
    });

    test('SMS: permanent refusals (21211, 21610) fail the entry once, with the code and a readable reason in the entry and its event', async () => {
      const events = await openEvents(server, lee);
      try {
        const since = twilio.seen.length;
        twilio.inject(
          { method: 'POST', path: MESSAGE_CREATE, fault: { kind: 'status', status: 400, code: 21211 } },
          { method: 'POST', path: MESSAGE_CREATE, fault: { kind: 'status', status: 400, code: 21610 } },
        );
        const invalid = await send('James O\'Connor', `Refused number ${Math.random()}`);
        await settled(invalid);
        const unsubscribed = await send('James O\'Connor', `Refused STOP ${Math.random()}`);
        await settled(unsubscribed);
        for (const [id, code, reason] of [
          [invalid, '21211', /not valid/],
          [unsubscribed, '21610', /opted out/],
        ] as const) {
          assert.equal((await outboxRow(id)).state, 'failed');
          assert.equal((await outboxRow(id)).attempts, 1, 'a permanent error is not retried');
          const stored = await entry(id);
          assert.equal(stored.status, 'failed');
          assert.equal(stored.error_code, code);
          await events.waitFor((list) => list.some((e) => e.event === 'correspondence.updated' && JSON.parse(e.data).id === id && JSON.parse(e.data).status === 'failed'));
          const update = events.events.map((e) => JSON.parse(e.data)).find((d) => d.id === id && d.status === 'failed');
          assert.equal(update.errorCode, code);
          assert.match(update.errorReason, reason);
          const history = (await api(server, `/api/v1/correspondence?patientId=${byName('James O\'Connor').id}&limit=5`, { token: lee })).body.items;
          const listed = history.find((e: { id: string }) => e.id === id);
          assert.equal(listed.errorCode, code);
          assert.match(listed.errorReason, reason);
        }
        assert.equal(twilio.seen.slice(since).filter((r) => r.method === 'POST' && MESSAGE_CREATE.test(r.path)).length, 2);
      } finally {
        events.close();
      }
    });

    test('SMS: Twilio unreachable for every attempt: the entry fails as provider_unavailable with a readable reason, nothing was sent', async () => {
      const since = twilio.seen.length;
      const body = `Unreachable ${Math.random()}`;
      for (let i = 0; i < 5; i++) twilio.inject({ method: 'POST', path: MESSAGE_CREATE, fault: { kind: 'reset' } });
      const id = await send('Lucas Silva', body);
      const row = await settled(id);
      assert.equal(row.state, 'failed');
      assert.equal(row.attempts, 5);
      const stored = await entry(id);
      assert.equal(stored.status, 'failed');
      assert.equal(stored.error_code, 'provider_unavailable');
      const listed = (await api(server, `/api/v1/correspondence?patientId=${byName('Lucas Silva').id}&limit=5`, { token: lee })).body.items.find((e: { id: string }) => e.id === id);
      assert.match(listed.errorReason, /could not be reached/);
      const seen = traffic(body, since);
      assert.equal(seen.held.length, 0);
      assert.equal(seen.sequence, 'CLCLCLCLC', 'each reset is looked up before the next try');
    });

    const ROOM_FAULTS: TwilioFault[] = [
      { kind: 'status', status: 429, code: 20429, retryAfter: '1' },
      { kind: 'status', status: 500, code: 20500 },
      { kind: 'status', status: 503, code: 20503 },
      { kind: 'hang' },
      { kind: 'reset' },
      { kind: 'hang', reached: true },
    ];
    test('video: a room Twilio will not create (429, 500, 503, timeout, reset) is 502 problem+json with nothing written; the retry opens the visit', async () => {
      const patient = byName('Aiko Tanaka');
      for (const fault of ROOM_FAULTS) {
        const before = {
          visits: await count('video_visits'),
          entries: await count('correspondence', { channel: 'video' }),
          links: await count('join_links'),
          events: await count('realtime_events'),
        };
        twilio.inject({ method: 'POST', path: ROOM_CREATE, fault });
        const failed = await api(server, `/api/v1/patients/${patient.id}/video-visits`, { token: lee, method: 'POST' });
        assert.ok(failed.status === 502 || failed.status === 503, `${JSON.stringify(fault)}: ${failed.status}`);
        assert.match(failed.headers.get('content-type')!, /^application\/problem\+json/);
        assert.equal(failed.body.code, 'provider_error');
        assert.equal(failed.body.token, undefined);
        assert.deepEqual(
          { visits: await count('video_visits'), entries: await count('correspondence', { channel: 'video' }), links: await count('join_links'), events: await count('realtime_events') },
          before,
          `${JSON.stringify(fault)}: nothing half-written`,
        );
        const retried = await api(server, `/api/v1/patients/${patient.id}/video-visits`, { token: lee, method: 'POST' });
        assert.equal(retried.status, 201, `${JSON.stringify(fault)}: the retry works`);
        assert.equal(await count('video_visits'), before.visits + 1);
        assert.equal(await count('join_links'), before.links + 1);
      }
    });

    /** Posts a webhook as Twilio would: form-encoded, signed over BASE_URL + path + query. */
    const webhook = async (path: string, params: Record<string, string>) => {
      const res = await fetch(server.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(TEST_TWILIO.authToken, TEST_TWILIO.baseUrl + path, params) },
        body: new URLSearchParams(params).toString(),
      });
      return { status: res.status, text: await res.text() };
    };
    const startCall = async (name: string) => {
      const res = await api(server, `/api/v1/patients/${byName(name).id}/calls`, { token: lee, method: 'POST' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as { id: string; correspondenceId: string; identity: string };
    };
    const browserLeg = (started: { id: string; identity: string }, callSid: string) =>
      webhook('/webhooks/twilio/voice', {
        AccountSid: TEST_TWILIO.accountSid,
        ApplicationSid: TWIML_APP_SID,
        CallSid: callSid,
        CallStatus: 'ringing',
        Direction: 'inbound',
        From: `client:${started.identity}`,
        Caller: `client:${started.identity}`,
        To: '',
        callId: started.id,
      });
    const callRow = async (id: string) => (await server.db.knex('calls').where({ id }).first()) as Record<string, any>;

    test('calls: dialling the patient fails (503, timeout, reset): the browser hears TwiML that hangs up in time, the call fails cleanly; a new call connects', async () => {
      let n = 0;
      for (const fault of [{ kind: 'status', status: 503, code: 20503 }, { kind: 'hang' }, { kind: 'reset' }] as TwilioFault[]) {
        const started = await startCall('Margaret Thompson');
        twilio.inject({ method: 'POST', path: PARTICIPANT_CREATE, fault });
        const twiml = await browserLeg(started, 'CA' + String(++n).padStart(32, 'a'));
        assert.equal(twiml.status, 200, 'Twilio gets its TwiML, never an error page');
        assert.match(twiml.text, /<Hangup\/>/);
        assert.doesNotMatch(twiml.text, /<Conference/);
        const row = await callRow(started.id);
        assert.equal(row.patient_call_sid, null, `${fault.kind}: no patient leg recorded`);
        assert.equal((await entry(started.correspondenceId)).status, 'failed');
      }
      const again = await startCall('Margaret Thompson');
      const twiml = await browserLeg(again, 'CA' + 'f'.repeat(32));
      assert.match(twiml.text, /<Conference/);
      assert.ok((await callRow(again.id)).patient_call_sid, 'the patient was dialled');
    });

    test('calls: hold fails (429, 500, timeout, reset): 502 problem+json, the call unchanged, no audit or event; the retry holds', async () => {
      const started = await startCall('Fatima Rahman');
      await browserLeg(started, 'CA' + 'e'.repeat(32));
      const row = await callRow(started.id);
      assert.ok(row.patient_call_sid && row.conference_sid);
      await webhook(`/webhooks/twilio/call-status?ref=${started.id}&leg=patient`, {
        AccountSid: TEST_TWILIO.accountSid,
        CallSid: row.patient_call_sid,
        CallStatus: 'in-progress',
        Timestamp: new Date().toUTCString(),
      });
      assert.equal((await callRow(started.id)).status, 'in-progress');
      for (const fault of [
        { kind: 'status', status: 429, code: 20429, retryAfter: '1' },
        { kind: 'status', status: 500, code: 20500 },
        { kind: 'hang' },
        { kind: 'reset' },
      ] as TwilioFault[]) {
        const before = { audit: await count('audit_log', { action: 'call.hold' }), events: await count('realtime_events') };
        twilio.inject({ method: 'POST', path: PARTICIPANT_UPDATE, fault });
        const held = await api(server, `/api/v1/calls/${started.id}/hold`, { token: lee, method: 'POST' });
        assert.ok(held.status === 502 || held.status === 503, `${JSON.stringify(fault)}: ${held.status}`);
        assert.match(held.headers.get('content-type')!, /^application\/problem\+json/);
        assert.equal(held.body.code, 'provider_error');
        assert.equal((await callRow(started.id)).on_hold, false);
        assert.deepEqual({ audit: await count('audit_log', { action: 'call.hold' }), events: await count('realtime_events') }, before);
      }
      const held = await api(server, `/api/v1/calls/${started.id}/hold`, { token: lee, method: 'POST' });
      assert.equal(held.status, 200);
      assert.equal(held.body.onHold, true);
      assert.equal(twilio.pending(), 0, 'every fault was met');
    });
  });
}
