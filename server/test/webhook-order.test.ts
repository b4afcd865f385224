import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canTransition, type Status } from '@carecomms/core';
import { twilioSignature } from '../src/providers/twilio-signature.js';
import { api, databases, FAST_OUTBOX_ENV, startServer, TEST_TWILIO, twilioEnv, waitUntil, type TestServer } from './helpers.js';
import { startTwilioWithFaults } from './twilio-faults.js';

const TWIML_APP_SID = 'AP' + '9'.repeat(32);

/** A small seeded shuffle, so a failing order can be replayed. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Each item `copies` times, shuffled: Twilio retrying, and several deliveries racing each other. */
const storm = <T>(items: T[], copies: number, seed: number) => shuffled(items.flatMap((item) => Array.from({ length: copies }, () => item)), seed);

/**
 * Duplicate, late and out-of-order webhooks for every channel, delivered all at
 * once (as Twilio's retries and parallel deliveries do), on top of the ordered
 * and sequential cases in twilio.test.ts, voice-twilio.test.ts and
 * video-twilio.test.ts: each report is recorded once, the outcome is the one
 * the same reports give in order, and no status a browser is shown ever moves
 * back out of a terminal one.
 */
for (const kind of databases()) {
  describe(`duplicate, late and out-of-order webhooks, all at once (${kind})`, () => {
    let server: TestServer;
    let twilio: Awaited<ReturnType<typeof startTwilioWithFaults>>;
    let lee: string;
    let patients: Array<{ id: string; name: string; phone: string | null }>;

    before(async () => {
      twilio = await startTwilioWithFaults();
      server = await startServer(kind, { env: { ...FAST_OUTBOX_ENV, ...twilioEnv(twilio.url), TWILIO_TWIML_APP_SID: TWIML_APP_SID } });
      lee = await server.token('dr-lee');
      patients = (await api(server, '/api/v1/patients', { token: lee })).body.items;
    });
    after(async () => {
      await server?.close();
      await twilio?.close();
    });

    const byName = (name: string) => patients.find((p) => p.name === name)!;
    const count = async (table: string, where: Record<string, unknown>) => Number((await server.db.knex(table).where(where).count({ n: '*' }))[0]!.n);
    /** Posts a webhook as Twilio would: form-encoded, signed over BASE_URL + path + query. */
    const webhook = async (path: string, params: Record<string, string>) => {
      const res = await fetch(server.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(TEST_TWILIO.authToken, TEST_TWILIO.baseUrl + path, params) },
        body: new URLSearchParams(params).toString(),
      });
      await res.text();
      assert.ok(res.status === 200 || res.status === 204, `${path}: ${res.status}`);
    };
    /** The statuses browsers were shown for one entry, in the order they were published. */
    const published = async (entryId: string) =>
      (
        (await server.db.knex('realtime_events').where({ type: 'correspondence.updated' }).whereRaw("payload->>'id' = ?", [entryId]).orderBy('id').select('payload')) as Array<{
          payload: { status: Status };
        }>
      ).map((r) => r.payload.status);
    const neverBack = (statuses: Status[], what: string) => {
      for (let i = 1; i < statuses.length; i++) {
        const [a, b] = [statuses[i - 1]!, statuses[i]!];
        assert.ok(a === b || canTransition(a, b), `${what}: ${a} → ${b} in ${statuses.join(', ')}`);
      }
    };
    const eventStatuses = async (entryId: string) => (await server.db.knex('correspondence_events').where({ correspondence_id: entryId }).pluck('status')) as string[];
    const once = (statuses: string[], what: string) => assert.equal(new Set(statuses).size, statuses.length, `${what}: each status recorded once (${statuses.join(', ')})`);

    test('SMS status: every status three times, all at once, in any order → delivered, each recorded and shown once; late contradictions change nothing', async () => {
      const sent = await api(server, `/api/v1/patients/${byName('Margaret Thompson').id}/messages`, { token: lee, body: { body: 'Storm of statuses' } });
      assert.equal(sent.status, 202);
      const sid = await waitUntil(async () => (await server.db.knex('correspondence').where({ id: sent.body.id }).first())?.provider_sid, 5000, 'the SID');
      const report = (status: string) =>
        webhook(`/webhooks/twilio/sms-status?ref=${sent.body.id}`, { AccountSid: TEST_TWILIO.accountSid, MessageSid: sid, MessageStatus: status, To: '+61491570006', From: '+61491571266' });
      await Promise.all(storm(['queued', 'sending', 'sent', 'delivered'], 3, 7).map(report));
      const row = await server.db.knex('correspondence').where({ id: sent.body.id }).first();
      assert.equal(row.status, 'delivered');
      once(await eventStatuses(sent.body.id), 'sms');
      // Late, repeated and contradicting reports, again all at once.
      await Promise.all(storm(['sent', 'undelivered', 'failed', 'delivered', 'queued'], 2, 11).map(report));
      assert.equal((await server.db.knex('correspondence').where({ id: sent.body.id }).first()).status, 'delivered');
      const shown = await published(sent.body.id);
      assert.equal(shown.at(-1), 'delivered');
      neverBack(shown, 'sms');
      assert.equal(new Set(shown).size, shown.length, 'each status shown once');
      // One audit row per change actually made, none for the duplicates.
      assert.equal(await count('audit_log', { action: 'correspondence.sms.status', patient_id: row.patient_id }), shown.length);
    });

    test('inbound SMS: the same MessageSid five times at once (bodies differing, as a broken retry might) is stored once; a STOP storm opts out once; a HELP storm replies once', async () => {
      const lucas = byName('Lucas Silva');
      const inbound = (sid: string, body: string) =>
        webhook('/webhooks/twilio/sms-inbound', { AccountSid: TEST_TWILIO.accountSid, MessageSid: sid, SmsSid: sid, From: lucas.phone!, To: '+61491571266', Body: body, NumMedia: '0' });
      const reply = 'SM' + 'a1'.repeat(16);
      await Promise.all(['On my way', 'On my way', 'On my way.', 'On my way', 'On my way!'].map((body) => inbound(reply, body)));
      assert.equal(await count('correspondence', { provider_sid: reply }), 1);
      const stored = await server.db.knex('correspondence').where({ provider_sid: reply }).first();
      assert.equal(await count('correspondence_events', { correspondence_id: stored.id }), 1);
      assert.equal(await count('audit_log', { action: 'correspondence.sms.create', patient_id: lucas.id }), 1);

      // STOP: the same message five times, and two separate STOP messages, all at once.
      const stop = 'SM' + 'b2'.repeat(16);
      const stopAgain = 'SM' + 'c3'.repeat(16);
      await Promise.all([...storm([stop], 5, 3).map((sid) => inbound(sid, 'STOP')), inbound(stopAgain, 'stop')]);
      assert.equal((await server.db.knex('patients').where({ id: lucas.id }).first()).opted_out, true);
      assert.equal(await count('correspondence', { provider_sid: stop }), 1);
      assert.equal(await count('correspondence', { provider_sid: stopAgain }), 1);
      assert.equal(await count('audit_log', { action: 'patient.sms_opt_out', patient_id: lucas.id }), 1, 'opted out once');
      const optOutEvents = await server.db.knex('realtime_events').where({ type: 'patient.updated', patient_id: lucas.id }).select('payload');
      assert.equal(optOutEvents.length, 1, 'one patient.updated');
      await inbound('SM' + 'd4'.repeat(16), 'START');
      assert.equal((await server.db.knex('patients').where({ id: lucas.id }).first()).opted_out, false);

      // HELP five times at once: one reply through Twilio.
      const before = twilio.messages.creates().length;
      await Promise.all(storm(['SM' + 'e5'.repeat(16)], 5, 5).map((sid) => inbound(sid, 'HELP')));
      await waitUntil(() => twilio.messages.creates().length > before, 5000, 'the HELP reply');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(twilio.messages.creates().length, before + 1, 'one reply');
    });

    /** Starts a call and connects the browser's leg (the patient is dialled); returns the call row. */
    const connectedCall = async (name: string, browserSid: string) => {
      const started = (await api(server, `/api/v1/patients/${byName(name).id}/calls`, { token: lee, method: 'POST' })).body;
      await webhook('/webhooks/twilio/voice', { AccountSid: TEST_TWILIO.accountSid, CallSid: browserSid, From: `client:${started.identity}`, callId: started.id });
      return (await server.db.knex('calls').where({ id: started.id }).first()) as { id: string; correspondence_id: string; conference_sid: string; patient_call_sid: string };
    };
    const callReports = (call: { id: string; conference_sid: string; patient_call_sid: string }) => {
      const t0 = Date.parse('2026-02-02T09:00:00Z');
      const at = (s: number) => new Date(t0 + s * 1000).toUTCString();
      const leg = (status: string, s: number, extra: Record<string, string> = {}) => () =>
        webhook(`/webhooks/twilio/call-status?ref=${call.id}&leg=patient`, { AccountSid: TEST_TWILIO.accountSid, CallSid: call.patient_call_sid, CallStatus: status, Timestamp: at(s), ...extra });
      const conference = (event: string, s: number, extra: Record<string, string> = {}) => () =>
        webhook(`/webhooks/twilio/conference-status?ref=${call.id}`, { AccountSid: TEST_TWILIO.accountSid, ConferenceSid: call.conference_sid, StatusCallbackEvent: event, Timestamp: at(s), ...extra });
      return [
        leg('initiated', 0),
        leg('ringing', 1),
        conference('conference-start', 1, { SequenceNumber: '1' }),
        leg('in-progress', 5),
        conference('participant-join', 5, { CallSid: call.patient_call_sid, SequenceNumber: '2' }),
        conference('participant-leave', 47, { CallSid: call.patient_call_sid, SequenceNumber: '3' }),
        leg('completed', 47, { CallDuration: '42' }),
        conference('conference-end', 48, { SequenceNumber: '4', CallSidEndingConference: call.patient_call_sid }),
      ];
    };
    const outcome = async (call: { id: string; correspondence_id: string }) => {
      const row = await server.db.knex('calls').where({ id: call.id }).first();
      const entry = await server.db.knex('correspondence').where({ id: call.correspondence_id }).first();
      return { status: row.status, duration: row.duration_seconds, answeredAt: row.answered_at?.toISOString(), endedAt: row.ended_at?.toISOString(), entry: entry.status, entryDuration: entry.duration_seconds, endedBy: entry.session.endedBy };
    };

    test('voice: every call and conference report three times, all at once, in any order, gives the outcome the same reports give in order', async () => {
      const ordered = await connectedCall('Aiko Tanaka', 'CA' + '1'.repeat(32));
      for (const report of callReports(ordered)) await report();
      const expected = await outcome(ordered);
      assert.equal(expected.status, 'completed');
      assert.equal(expected.duration, 42);

      const stormed = await connectedCall('Fatima Rahman', 'CA' + '2'.repeat(32));
      await Promise.all(storm(callReports(stormed), 3, 13).map((report) => report()));
      assert.deepEqual(await outcome(stormed), expected);
      const events = await server.db.knex('call_events').where({ call_id: stormed.id }).pluck('dedupe_key');
      assert.equal(new Set(events).size, events.length, 'each report recorded once');
      assert.equal(events.length, 8);
      once(await eventStatuses(stormed.correspondence_id), 'voice');
      const shown = await published(stormed.correspondence_id);
      assert.equal(shown.at(-1), 'completed');
      neverBack(shown, 'voice');
      // The call's own state, as browsers were shown it.
      const callStates = ((await server.db.knex('realtime_events').where({ type: 'call.updated' }).whereRaw("payload->>'id' = ?", [stormed.id]).orderBy('id').select('payload')) as Array<{ payload: { status: Status } }>).map((r) => r.payload.status);
      neverBack(callStates, 'call.updated');

      // Late reports after the end, all at once: nothing moves.
      const late = callReports(stormed);
      await Promise.all([late[1]!, late[3]!, late[4]!, late[0]!].map((report) => report()));
      assert.deepEqual(await outcome(stormed), expected);
    });

    test('voice: the conference’s end reported before the answer (a delayed callback) still logs an answered, completed call', async () => {
      const call = await connectedCall('Margaret Thompson', 'CA' + '5'.repeat(32));
      const [initiated, ringing, start, answered, joined, left, completed, conferenceEnd] = callReports(call);
      for (const report of [initiated!, ringing!, start!, conferenceEnd!, left!, answered!, joined!, completed!]) await report();
      const done = await outcome(call);
      assert.equal(done.status, 'completed');
      assert.equal(done.entry, 'completed');
      assert.equal(done.duration, 42);
      assert.equal(done.answeredAt, '2026-02-02T09:00:05.000Z');
      neverBack(await published(call.correspondence_id), 'voice');
    });

    test('recording: the completed report five times at once, an earlier in-progress late, a failure and a second recording later → the first recording kept, each recorded once', async () => {
      await server.db.knex('tenants').where({ slug: 'demo-clinic' }).update({ recording_enabled: true });
      try {
        const call = await connectedCall('James O\'Connor', 'CA' + '3'.repeat(32));
        for (const report of callReports(call)) await report();
        const first = 'RE' + 'a'.repeat(32);
        const recording = (sid: string, status: string, duration?: string) => () =>
          webhook(`/webhooks/twilio/recording-status?ref=${call.id}`, {
            AccountSid: TEST_TWILIO.accountSid,
            ConferenceSid: call.conference_sid,
            RecordingSid: sid,
            RecordingStatus: status,
            ...(duration ? { RecordingDuration: duration } : {}),
          });
        await Promise.all(storm([recording(first, 'completed', '41'), recording(first, 'in-progress')], 5, 17).map((r) => r()));
        let entry = await server.db.knex('correspondence').where({ id: call.correspondence_id }).first();
        assert.equal(entry.recording_sid, first);
        assert.equal(entry.session.recordingDurationSeconds, 41);
        assert.equal(await count('call_events', { call_id: call.id, kind: 'recording' }), 2, 'completed and in-progress, once each');
        const updates = (await published(call.correspondence_id)).length;

        await Promise.all([recording(first, 'failed')(), recording(first, 'completed', '41')(), recording('RE' + 'b'.repeat(32), 'completed', '5')()]);
        entry = await server.db.knex('correspondence').where({ id: call.correspondence_id }).first();
        assert.equal(entry.recording_sid, first, 'the first recording stays');
        assert.equal(entry.session.recordingDurationSeconds, 41);
        assert.equal(entry.status, 'completed');
        assert.equal((await published(call.correspondence_id)).length, updates, 'nothing new shown');
        const listed = (await api(server, `/api/v1/correspondence?patientId=${byName("James O'Connor").id}&channel=voice&limit=1`, { token: lee })).body.items[0];
        assert.equal(listed.hasRecording, true);
      } finally {
        await server.db.knex('tenants').where({ slug: 'demo-clinic' }).update({ recording_enabled: false });
      }
    });

    test('video: room and participant reports three times, all at once, in any order (the room’s end among them), give the outcome the same reports give in order', async () => {
      const startVisit = async () => {
        const visit = (await api(server, `/api/v1/patients/${byName('Margaret Thompson').id}/video-visits`, { token: lee, method: 'POST' })).body;
        return {
          visit,
          row: (await server.db.knex('video_visits').where({ id: visit.id }).first()) as { id: string; room_sid: string; room_name: string; practitioner_identity: string; patient_identity: string },
        };
      };
      const reports = (visit: { row: { id: string; room_sid: string; room_name: string; practitioner_identity: string; patient_identity: string } }) => {
        const t0 = Date.parse('2026-02-02T10:00:00Z');
        const at = (s: number) => new Date(t0 + s * 1000).toISOString();
        const room = visit.row;
        const event = (name: string, s: number, extra: Record<string, string> = {}) => () =>
          webhook(`/webhooks/twilio/video-status?ref=${room.id}`, {
            AccountSid: TEST_TWILIO.accountSid,
            RoomSid: room.room_sid,
            RoomName: room.room_name,
            RoomStatus: name === 'room-ended' ? 'completed' : 'in-progress',
            StatusCallbackEvent: name,
            Timestamp: at(s),
            ...extra,
          });
        const practitioner = { ParticipantSid: 'PA' + '1'.repeat(32), ParticipantIdentity: room.practitioner_identity };
        const patient = { ParticipantSid: 'PA' + '2'.repeat(32), ParticipantIdentity: room.patient_identity };
        const rejoined = { ParticipantSid: 'PA' + '3'.repeat(32), ParticipantIdentity: room.patient_identity };
        return [
          event('participant-connected', 0, practitioner),
          event('participant-connected', 10, patient),
          event('participant-disconnected', 40, patient),
          event('participant-connected', 45, rejoined),
          event('participant-disconnected', 100, rejoined),
          event('participant-disconnected', 101, practitioner),
          event('room-ended', 110),
          // Late: a participant reported connected after the room ended.
          event('participant-connected', 120, { ParticipantSid: 'PA' + '4'.repeat(32), ParticipantIdentity: room.patient_identity }),
        ];
      };
      const outcome = async (visitId: string) => {
        const row = await server.db.knex('video_visits').where({ id: visitId }).first();
        const entry = await server.db.knex('correspondence').where({ id: row.correspondence_id }).first();
        return { status: row.status, entry: entry.status, duration: entry.duration_seconds, startedAt: entry.session.startedAt, endedAt: entry.session.endedAt, participants: entry.session.participants };
      };

      const ordered = await startVisit();
      for (const report of reports(ordered)) await report();
      const expected = await outcome(ordered.visit.id);
      assert.equal(expected.status, 'completed');
      assert.equal(expected.duration, 100, 'from both present (10 s) to the room’s end (110 s)');

      const stormed = await startVisit();
      await Promise.all(storm(reports(stormed), 3, 23).map((report) => report()));
      assert.deepEqual(await outcome(stormed.visit.id), expected);
      const keys = await server.db.knex('video_visit_events').where({ visit_id: stormed.visit.id }).pluck('dedupe_key');
      assert.equal(new Set(keys).size, keys.length, 'each report recorded once');
      const entryId = stormed.visit.correspondenceId;
      once(await eventStatuses(entryId), 'video');
      const shown = await published(entryId);
      assert.equal(shown.at(-1), 'completed');
      neverBack(shown, 'video');
      const visitStates = ((await server.db.knex('realtime_events').where({ type: 'video.updated' }).whereRaw("payload->>'id' = ?", [stormed.visit.id]).orderBy('id').select('payload')) as Array<{ payload: { status: Status } }>).map((r) => r.payload.status);
      neverBack(visitStates, 'video.updated');
      assert.equal(visitStates.at(-1), 'completed');
    });

    test('the practitioner’s End racing Twilio’s own end reports: one end recorded, the call and the visit completed once', async () => {
      const call = await connectedCall('Lucas Silva', 'CA' + '4'.repeat(32));
      const reports = callReports(call);
      for (const report of reports.slice(0, 5)) await report();
      await Promise.all([
        api(server, `/api/v1/calls/${call.id}/end`, { token: lee, method: 'POST' }),
        api(server, `/api/v1/calls/${call.id}/end`, { token: lee, method: 'POST' }),
        ...storm(reports.slice(5), 2, 29).map((report) => report()),
      ]);
      const ended = await outcome(call);
      assert.equal(ended.status, 'completed');
      assert.equal(ended.entry, 'completed');
      assert.equal(ended.duration, 42, 'Twilio’s CallDuration');
      // End recorded once, or not at all when Twilio's report of the hang-up won the race.
      assert.ok((await count('call_events', { call_id: call.id, kind: 'ended' })) <= 1);
      once(await eventStatuses(call.correspondence_id), 'voice');
      neverBack(await published(call.correspondence_id), 'voice');

      const visit = (await api(server, `/api/v1/patients/${byName('Aiko Tanaka').id}/video-visits`, { token: lee, method: 'POST' })).body;
      const room = await server.db.knex('video_visits').where({ id: visit.id }).first();
      const roomEnded = () =>
        webhook(`/webhooks/twilio/video-status?ref=${visit.id}`, {
          AccountSid: TEST_TWILIO.accountSid,
          RoomSid: room.room_sid,
          RoomName: room.room_name,
          RoomStatus: 'completed',
          StatusCallbackEvent: 'room-ended',
          Timestamp: new Date().toISOString(),
        });
      const answers = await Promise.all([
        api(server, `/api/v1/video-visits/${visit.id}/end`, { token: lee, method: 'POST' }),
        api(server, `/api/v1/video-visits/${visit.id}/end`, { token: lee, method: 'POST' }),
        roomEnded(),
        roomEnded(),
      ]);
      for (const answer of answers.slice(0, 2) as Array<{ status: number; body: { status: string } }>) {
        assert.equal(answer.status, 200);
        assert.equal(answer.body.status, 'no-answer', 'nobody joined');
      }
      assert.equal(await count('video_visit_events', { visit_id: visit.id, kind: 'room-ended' }), 1);
      const entry = await server.db.knex('correspondence').where({ id: visit.correspondenceId }).first();
      assert.equal(entry.status, 'no-answer');
      assert.ok(['practitioner', 'provider'].includes(entry.session.endedBy), entry.session.endedBy);
      once(await eventStatuses(visit.correspondenceId), 'video');
      assert.equal((await published(visit.correspondenceId)).filter((s) => s === 'no-answer').length, 1, 'no-answer shown once');
    });
  });
}
