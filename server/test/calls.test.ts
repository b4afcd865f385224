import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { api, databases, openEvents, startServer, waitUntil, type TestServer } from './helpers.js';
import { readSse } from './voice-mock.js';

interface Patient {
  id: string;
  name: string;
  phone: string | null;
  externalId: string;
}

/** Sandbox calls through the HTTP API only: the browser's leg and the phone are played by the test. */
for (const kind of databases()) {
  describe(`voice calls in the sandbox (${kind})`, () => {
    let server: TestServer;
    let lee: string;
    let patel: string;
    let other: string;
    let patients: Patient[];
    before(async () => {
      server = await startServer(kind, { env: { SANDBOX_RING_TIMEOUT_MS: '2500', SANDBOX_SEAT_GRACE_MS: '1000' } });
      [lee, patel, other] = await Promise.all([server.token('dr-lee'), server.token('dr-patel'), server.token('dr-other')]);
      patients = (await api(server, '/api/v1/patients', { token: lee })).body.items;
    });
    after(() => server.close());

    const byName = (name: string) => patients.find((p) => p.name === name)!;
    const start = (name: string, token = lee) => api(server, `/api/v1/patients/${byName(name).id}/calls`, { token, method: 'POST' });
    const entry = async (id: string) => (await server.db.knex('correspondence').where({ id }).first()) as Record<string, any>;
    const statuses = async (id: string) =>
      (await server.db.knex('correspondence_events').where({ correspondence_id: id }).orderBy('id').pluck('status')) as string[];
    const callState = async (id: string) => (await api(server, `/api/v1/calls/${id}`, { token: lee })).body;
    const waitStatus = (id: string, status: string) =>
      waitUntil(async () => {
        const call = await callState(id);
        return call.status === status && call;
      }, 5000, `call ${status}`);
    /** The browser's leg: holding the signal seat rings the phone, as Twilio's voice webhook does. */
    const browserLeg = (started: { id: string; token: string }) =>
      readSse(`${server.url}/api/v1/calls/${started.id}/signal`, { authorization: `Bearer ${started.token}` });
    const phoneEvents = (phone: string) => readSse(`${server.url}/sandbox/api/calls/events?phone=${encodeURIComponent(phone)}`);
    const phone = (id: string, action: 'answer' | 'decline' | 'hangup', number: string) =>
      api(server, `/sandbox/api/calls/${id}/${action}`, { body: { phone: number } });

    test('start: 201 with an initiated voice entry, an opaque identity and a call token; voice is a feature', async () => {
      const session = await api(server, '/api/v1/session', { token: lee });
      assert.ok(session.body.features.includes('voice'));
      const margaret = byName('Margaret Thompson');
      const res = await start('Margaret Thompson');
      assert.equal(res.status, 201);
      const body = res.body;
      assert.equal(body.provider, 'sandbox');
      assert.match(body.identity, /^clinician-[0-9a-f]{16}$/);
      assert.equal(body.call.status, 'initiated');
      assert.equal(body.call.onHold, false);
      assert.equal(body.call.recording, false);
      assert.equal(body.entry.channel, 'voice');
      assert.equal(body.entry.status, 'initiated');
      assert.equal(body.entry.contact, margaret.phone);
      assert.equal(body.entry.session.callId, body.id);
      assert.equal(body.correspondenceId, body.entry.id);
      const claims = decodeJwt(body.token);
      assert.equal(claims.typ, 'call-seat');
      assert.equal(claims.sub, body.id);
      assert.equal(claims.idn, body.identity);
      assert.ok(Math.abs(Number(claims.exp) - (Date.now() / 1000 + 3600)) < 30, 'one hour');
      assert.deepEqual(await statuses(body.entry.id), ['initiated']);
      const row = await server.db.knex('calls').where({ id: body.id }).first();
      assert.match(row.conference_name, /^call-[0-9a-f]{32}$/);
      assert.equal(row.from_number, '+61491571266', 'the tenant’s number');
      for (const phi of ['Margaret', 'Thompson', margaret.externalId, margaret.phone!]) {
        assert.ok(!row.conference_name.includes(phi) && !body.identity.includes(phi));
      }
      await api(server, `/api/v1/calls/${body.id}/end`, { token: lee, method: 'POST' });
    });

    test('start calls a patient who opted out of texts; refuses number-less (422), invisible and foreign patients (404)', async () => {
      // Noah Williams replied STOP: that stops texts, not calls.
      assert.equal((await server.db.knex('patients').where({ id: byName('Noah Williams').id }).first()).opted_out, true);
      const optedOut = await start('Noah Williams');
      assert.equal(optedOut.status, 201);
      await api(server, `/api/v1/calls/${optedOut.body.id}/end`, { token: lee, method: 'POST' });
      const noPhone = await start('Grace Kim');
      assert.equal(noPhone.status, 422);
      assert.equal(noPhone.body.code, 'no_phone');
      const notGranted = await start("James O'Connor", patel);
      assert.equal(notGranted.status, 404);
      const foreign = await start('Margaret Thompson', other);
      assert.equal(foreign.status, 404);
      const unknown = await api(server, '/api/v1/patients/00000000-0000-4000-8000-000000000000/calls', { token: lee, method: 'POST' });
      assert.equal(unknown.status, 404);
      const before = Number((await server.db.knex('calls').count({ n: '*' }))[0]!.n);
      assert.ok(before >= 1);
    });

    test('a whole call: ring, answer, hold and resume, end; statuses and duration as Twilio would report them', async () => {
      const margaret = byName('Margaret Thompson');
      const events = await openEvents(server, lee);
      const ringer = await phoneEvents(margaret.phone!);
      // The phone simulator's one stream: its messages, and with calls=1 its calls too.
      const inbox = await readSse(`${server.url}/sandbox/api/events?phone=${encodeURIComponent(margaret.phone!)}&calls=1`);
      const started = (await start('Margaret Thompson')).body;
      try {
        const leg = await browserLeg(started);
        assert.equal(leg.status, 200);
        await waitUntil(() => ringer.events.some((e) => e.data.id === started.id && e.data.state === 'ringing'), 5000, 'the phone rings');
        await waitUntil(() => inbox.events.some((e) => e.event === 'call' && e.data.id === started.id && e.data.state === 'ringing'), 5000, 'in its one stream too');
        inbox.close();
        const ring = ringer.events.find((e) => e.data.id === started.id)!.data;
        assert.equal(ring.clinicName, 'Demo Clinic');
        assert.equal(ring.from, '+61491571266');
        await waitStatus(started.id, 'ringing');

        const answered = await phone(started.id, 'answer', margaret.phone!);
        assert.equal(answered.status, 200);
        assert.equal(answered.body.call.state, 'in-progress');
        const inCall = await waitStatus(started.id, 'in-progress');
        assert.ok(inCall.answeredAt);
        const seat = await readSse(`${server.url}/sandbox/api/calls/${started.id}/signal`, { authorization: `Bearer ${answered.body.seatKey}` });
        assert.equal(seat.status, 200);
        await waitUntil(() => leg.events.some((e) => e.event === 'peer-joined'), 5000, 'the phone joins the browser’s room');

        // Media flows between the seats.
        const relayed = await api(server, `/api/v1/calls/${started.id}/signal`, { token: started.token, body: { type: 'offer', data: { sdp: 'x' } } });
        assert.equal(relayed.status, 202);
        assert.equal(relayed.body.delivered, true);
        await waitUntil(() => seat.events.some((e) => e.event === 'offer'));

        const held = await api(server, `/api/v1/calls/${started.id}/hold`, { token: lee, method: 'POST' });
        assert.equal(held.status, 200);
        assert.equal(held.body.onHold, true);
        await waitUntil(() => ringer.events.some((e) => e.data.id === started.id && e.data.onHold), 5000, 'the phone shows On hold');
        await waitUntil(() => seat.events.some((e) => e.event === 'hold'));
        const resumed = await api(server, `/api/v1/calls/${started.id}/resume`, { token: lee, method: 'POST' });
        assert.equal(resumed.body.onHold, false);
        await waitUntil(() => seat.events.some((e) => e.event === 'resume'));

        await new Promise((r) => setTimeout(r, 1100));
        const ended = await api(server, `/api/v1/calls/${started.id}/end`, { token: lee, method: 'POST' });
        assert.equal(ended.status, 200);
        assert.equal(ended.body.status, 'completed');
        assert.ok(ended.body.durationSeconds >= 1);
        await waitUntil(() => leg.ended && seat.ended, 5000, 'both seats released');
        await waitUntil(() => ringer.events.some((e) => e.data.id === started.id && e.data.state === 'ended' && e.data.outcome === 'completed'));

        const row = await waitUntil(async () => {
          const r = await entry(started.correspondenceId);
          return r.session?.endedAt && r;
        });
        assert.equal(row.status, 'completed');
        assert.ok(row.duration_seconds >= 1);
        assert.match(row.provider_sid, /^CA[0-9a-f]{32}$/);
        assert.equal(row.session.endedBy, 'practitioner');
        assert.equal(row.recording_sid, null);
        assert.deepEqual(await statuses(started.correspondenceId), ['initiated', 'ringing', 'in-progress', 'completed']);

        // Ending twice is harmless; hold after the end is refused.
        const again = await api(server, `/api/v1/calls/${started.id}/end`, { token: lee, method: 'POST' });
        assert.equal(again.status, 200);
        assert.equal(again.body.status, 'completed');
        const lateHold = await api(server, `/api/v1/calls/${started.id}/hold`, { token: lee, method: 'POST' });
        assert.equal(lateHold.status, 409);
        assert.equal(lateHold.body.code, 'call_not_in_progress');
        const rejoin = await browserLeg(started);
        assert.equal(rejoin.status, 410);

        await events.waitFor((e) => e.some((x) => x.event === 'call.updated' && JSON.parse(x.data).status === 'completed'));
        const callUpdates = events.events.filter((x) => x.event === 'call.updated' && JSON.parse(x.data).id === started.id).map((x) => JSON.parse(x.data));
        assert.deepEqual(
          [...new Set(callUpdates.map((c) => c.status))],
          ['initiated', 'ringing', 'in-progress', 'completed'],
        );
        assert.ok(callUpdates.some((c) => c.onHold));
        const entryUpdates = events.events.filter((x) => x.event === 'correspondence.updated' && JSON.parse(x.data).id === started.correspondenceId);
        assert.equal(JSON.parse(entryUpdates.at(-1)!.data).status, 'completed');
        seat.close();
        leg.close();
      } finally {
        ringer.close();
        events.close();
      }
    });

    test('declined → busy, unanswered → no-answer, hung up while ringing → canceled, the phone hanging up → completed', async () => {
      const james = byName("James O'Connor");
      const dial = async () => {
        const started = (await start("James O'Connor")).body;
        const leg = await browserLeg(started);
        await waitStatus(started.id, 'ringing');
        return { started, leg };
      };

      const declined = await dial();
      assert.equal((await phone(declined.started.id, 'decline', james.phone!)).status, 200);
      const busy = await waitStatus(declined.started.id, 'busy');
      assert.equal(busy.durationSeconds, null);
      await waitUntil(() => declined.leg.ended, 5000, 'the browser hears bye');

      const unanswered = await dial();
      const noAnswer = await waitStatus(unanswered.started.id, 'no-answer');
      assert.equal(noAnswer.durationSeconds, null);
      const late = await phone(unanswered.started.id, 'answer', james.phone!);
      assert.equal(late.status, 410);

      const cancelled = await dial();
      await api(server, `/api/v1/calls/${cancelled.started.id}/end`, { token: lee, method: 'POST' });
      await waitStatus(cancelled.started.id, 'canceled');
      assert.equal((await entry(cancelled.started.correspondenceId)).status, 'canceled');

      const answered = await dial();
      await phone(answered.started.id, 'answer', james.phone!);
      await waitStatus(answered.started.id, 'in-progress');
      const wrongPhone = await phone(answered.started.id, 'hangup', '+61491570006');
      assert.equal(wrongPhone.status, 404);
      await phone(answered.started.id, 'hangup', james.phone!);
      const done = await waitStatus(answered.started.id, 'completed');
      assert.ok(done.durationSeconds <= 1, 'hung up straight after answering');
      const row = await entry(answered.started.correspondenceId);
      assert.equal(row.session.endedBy, 'patient');
      for (const leg of [declined, unanswered, cancelled, answered]) leg.leg.close();
    });

    test('a browser that drops and does not come back ends the call', async () => {
      const started = (await start('Aiko Tanaka')).body;
      const leg = await browserLeg(started);
      await waitStatus(started.id, 'ringing');
      leg.close();
      await waitStatus(started.id, 'canceled');
    });

    test('a call token opens only its own call’s seat; a session token opens none', async () => {
      const one = (await start('Lucas Silva')).body;
      const two = (await start('Fatima Rahman')).body;
      const crossed = await readSse(`${server.url}/api/v1/calls/${two.id}/signal`, { authorization: `Bearer ${one.token}` });
      assert.equal(crossed.status, 404);
      const session = await readSse(`${server.url}/api/v1/calls/${one.id}/signal`, { authorization: `Bearer ${lee}` });
      assert.equal(session.status, 401);
      const patientSeat = await readSse(`${server.url}/sandbox/api/calls/${one.id}/signal`, { authorization: 'Bearer guess' });
      assert.equal(patientSeat.status, 410);
      for (const call of [one, two]) await api(server, `/api/v1/calls/${call.id}/end`, { token: lee, method: 'POST' });
      assert.equal((await callState(one.id)).status, 'canceled');
    });

    test('notes: saved on the entry during or after the call, at most 10,000 characters, only by who may see the patient', async () => {
      const started = (await start('Margaret Thompson')).body;
      const saved = await api(server, `/api/v1/calls/${started.id}`, { token: lee, method: 'PATCH', body: { notes: 'Discussed the new dose. <b>not html</b>' } });
      assert.equal(saved.status, 200);
      assert.equal(saved.body.id, started.correspondenceId);
      assert.equal(saved.body.notes, 'Discussed the new dose. <b>not html</b>');
      const tooLong = await api(server, `/api/v1/calls/${started.id}`, { token: lee, method: 'PATCH', body: { notes: 'x'.repeat(10_001) } });
      assert.equal(tooLong.status, 422);
      assert.equal(tooLong.body.errors[0].path, 'body.notes');
      const maxLength = await api(server, `/api/v1/calls/${started.id}`, { token: lee, method: 'PATCH', body: { notes: 'y'.repeat(10_000) } });
      assert.equal(maxLength.status, 200);
      const foreign = await api(server, `/api/v1/calls/${started.id}`, { token: other, method: 'PATCH', body: { notes: 'no' } });
      assert.equal(foreign.status, 404);
      await api(server, `/api/v1/calls/${started.id}/end`, { token: lee, method: 'POST' });
      const after = await api(server, `/api/v1/calls/${started.id}`, { token: lee, method: 'PATCH', body: { notes: 'Follow up in a week.' } });
      assert.equal(after.body.notes, 'Follow up in a week.');
      const cleared = await api(server, `/api/v1/calls/${started.id}`, { token: lee, method: 'PATCH', body: { notes: '' } });
      assert.equal(cleared.body.notes, null);
      const audit = await server.db.knex('audit_log').where({ action: 'correspondence.voice.notes' }).count({ n: '*' });
      assert.ok(Number(audit[0]!.n) >= 3);
    });

    test('unknown, malformed and foreign calls are 404 for every call route', async () => {
      const started = (await start("James O'Connor")).body;
      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', started.id]) {
        const token = id === started.id ? patel : lee;
        for (const [method, path, body] of [
          ['GET', '', undefined],
          ['POST', '/hold', undefined],
          ['POST', '/resume', undefined],
          ['POST', '/end', undefined],
          ['PATCH', '', { notes: 'x' }],
          ['POST', '/recording/link', undefined],
          ['GET', '/recording', undefined],
        ] as const) {
          const res = await api(server, `/api/v1/calls/${id}${path}`, { token, method, ...(body ? { body } : {}) });
          assert.equal(res.status, 404, `${method} ${path} for ${id}`);
        }
      }
      await api(server, `/api/v1/calls/${started.id}/end`, { token: lee, method: 'POST' });
    });

    test('recording: per tenant; streamed with ranges to who may see the patient, audited; never a raw URL', async () => {
      await server.db.knex('tenants').where({ slug: 'demo-clinic' }).update({ recording_enabled: true });
      try {
        const margaret = byName('Margaret Thompson');
        const started = (await start('Margaret Thompson')).body;
        assert.equal(started.call.recording, true);
        const leg = await browserLeg(started);
        const ringer = await phoneEvents(margaret.phone!);
        await waitStatus(started.id, 'ringing');
        await waitUntil(() => ringer.events.some((e) => e.data.id === started.id && e.data.recording), 5000, 'the phone shows the notice');
        await phone(started.id, 'answer', margaret.phone!);
        await waitStatus(started.id, 'in-progress');
        await new Promise((r) => setTimeout(r, 1100));
        await api(server, `/api/v1/calls/${started.id}/end`, { token: lee, method: 'POST' });
        const row = await waitUntil(async () => {
          const r = await entry(started.correspondenceId);
          return r.recording_sid && r;
        }, 5000, 'the recording SID');
        assert.match(row.recording_sid, /^RE[0-9a-f]{32}$/);
        assert.ok(!JSON.stringify(row).includes('http'), 'no URL is stored');
        const listed = (await api(server, `/api/v1/correspondence?patientId=${margaret.id}&channel=voice&limit=1`, { token: lee })).body.items[0];
        assert.equal(listed.hasRecording, true);
        assert.ok(!JSON.stringify(listed).includes(row.recording_sid), 'the SID is not handed to browsers');

        const auditCount = async () => Number((await server.db.knex('audit_log').where({ action: 'call.recording.play' }).count({ n: '*' }))[0]!.n);
        const auditBefore = await auditCount();
        const whole = await fetch(`${server.url}/api/v1/calls/${started.id}/recording`, { headers: { authorization: `Bearer ${lee}` } });
        assert.equal(whole.status, 200);
        assert.equal(whole.headers.get('content-type'), 'audio/wav');
        assert.equal(whole.headers.get('accept-ranges'), 'bytes');
        assert.match(whole.headers.get('cache-control')!, /no-store/);
        const bytes = Buffer.from(await whole.arrayBuffer());
        assert.equal(bytes.subarray(0, 4).toString('ascii'), 'RIFF');
        assert.equal(Number(whole.headers.get('content-length')), bytes.length);

        const link = await api(server, `/api/v1/calls/${started.id}/recording/link`, { token: lee, method: 'POST' });
        assert.equal(link.status, 201);
        assert.match(link.body.url, new RegExp(`^/api/v1/calls/${started.id}/recording\\?access=`));
        const part = await fetch(server.url + link.body.url, { headers: { range: 'bytes=4-11' } });
        assert.equal(part.status, 206);
        assert.equal(part.headers.get('content-range'), `bytes 4-11/${bytes.length}`);
        assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(4, 12));
        const beyond = await fetch(server.url + link.body.url, { headers: { range: `bytes=${bytes.length + 10}-` } });
        assert.equal(beyond.status, 416);
        assert.equal(await auditCount(), auditBefore + 1, 'the playback is audited once; a continuation range is not a new playback');
        const first = await fetch(server.url + link.body.url, { headers: { range: 'bytes=0-' } });
        assert.equal(first.status, 206);
        await first.arrayBuffer();
        assert.equal(await auditCount(), auditBefore + 2);

        // Another practitioner without access, another tenant, a forged or mismatched link: nothing.
        assert.equal((await fetch(`${server.url}/api/v1/calls/${started.id}/recording`, { headers: { authorization: `Bearer ${other}` } })).status, 404);
        assert.equal((await api(server, `/api/v1/calls/${started.id}/recording/link`, { token: other, method: 'POST' })).status, 404);
        assert.equal((await fetch(`${server.url}/api/v1/calls/${started.id}/recording?access=forged`)).status, 401);
        assert.equal((await fetch(`${server.url}/api/v1/calls/${started.id}/recording`)).status, 401);
        const james = (await start("James O'Connor")).body;
        const elsewhere = link.body.url.replace(started.id, james.id);
        assert.equal((await fetch(server.url + elsewhere)).status, 401, 'a link opens only its own call');
        await api(server, `/api/v1/calls/${james.id}/end`, { token: lee, method: 'POST' });
        assert.equal((await api(server, `/api/v1/calls/${james.id}/recording/link`, { token: lee, method: 'POST' })).status, 404, 'no recording');
        // Access revoked: the link stops working at once.
        await server.db.knex('patient_access').where({ patient_id: margaret.id }).whereIn('practitioner_id', server.db.knex('practitioners').where({ external_id: 'dr-lee' }).select('id')).delete();
        try {
          assert.equal((await fetch(server.url + link.body.url)).status, 404);
        } finally {
          const [tenant, practitioner] = await Promise.all([
            server.db.knex('tenants').where({ slug: 'demo-clinic' }).first(),
            server.db.knex('practitioners').where({ external_id: 'dr-lee' }).first(),
          ]);
          await server.db.knex('patient_access').insert({ practitioner_id: practitioner.id, patient_id: margaret.id, tenant_id: tenant.id });
        }
        ringer.close();
        leg.close();
      } finally {
        await server.db.knex('tenants').where({ slug: 'demo-clinic' }).update({ recording_enabled: false });
      }
    });
  });
}
