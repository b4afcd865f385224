import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { twilioSignature } from '../src/providers/twilio-signature.js';
import { api, databases, FAST_OUTBOX_ENV, startServer, startTwilioMock, TEST_TWILIO, twilioEnv, type TestServer } from './helpers.js';
import { startRoomsMock } from './video-mock.js';

for (const kind of databases()) {
  describe(`video visits on Twilio, against a mock of its REST API (${kind})`, () => {
    let server: TestServer;
    let mock: Awaited<ReturnType<typeof startRoomsMock>>;
    let sms: Awaited<ReturnType<typeof startTwilioMock>>;
    let proxy: ReturnType<typeof createServer>;
    let lee: string;
    let patients: Array<{ id: string; name: string; externalId: string; phone: string | null }>;

    before(async () => {
      mock = await startRoomsMock();
      sms = await startTwilioMock();
      // TWILIO_API_URL is one origin for every Twilio API: route Rooms to one mock and Messages to the other.
      proxy = createServer((req, res) => {
        const target = req.url!.startsWith('/v1/Rooms') ? mock.url : sms.url;
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(req.headers)) {
            if (typeof value === 'string' && !['host', 'connection', 'content-length'].includes(name)) headers[name] = value;
          }
          fetch(target + req.url, { method: req.method, headers, body: req.method === 'GET' ? undefined : Buffer.concat(chunks) }).then(
            async (answer) => {
              res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
              res.end(Buffer.from(await answer.arrayBuffer()));
            },
            () => {
              res.writeHead(502);
              res.end();
            },
          );
        });
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      server = await startServer(kind, { env: { ...FAST_OUTBOX_ENV, ...twilioEnv(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`) } });
      lee = await server.token('dr-lee');
      patients = (await api(server, '/api/v1/patients', { token: lee })).body.items;
    });
    after(async () => {
      await server?.close();
      await mock?.close();
      await sms?.close();
      proxy?.closeAllConnections();
      await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
    });

    const byName = (name: string) => patients.find((p) => p.name === name)!;
    const entry = async (id: string) => (await server.db.knex('correspondence').where({ id }).first()) as Record<string, any>;
    const start = async (name = 'Margaret Thompson') => {
      const res = await api(server, `/api/v1/patients/${byName(name).id}/video-visits`, { token: lee, method: 'POST' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as { id: string; correspondenceId: string; token: string; joinUrl: string; roomName: string; expiresAt: string; provider: string };
    };
    /** Posts a room status callback as Twilio would: form-encoded, signed over BASE_URL + path + query. */
    const callback = async (visitId: string, params: Record<string, string>, signature?: string) => {
      const path = `/webhooks/twilio/video-status?ref=${visitId}`;
      const res = await fetch(server.url + path, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': signature ?? twilioSignature(TEST_TWILIO.authToken, TEST_TWILIO.baseUrl + path, params),
        },
        body: new URLSearchParams(params).toString(),
      });
      return { status: res.status, text: await res.text() };
    };
    const identities = async (visitId: string) =>
      (await server.db.knex('video_visits').where({ id: visitId }).first()) as { practitioner_identity: string; patient_identity: string; room_sid: string; room_name: string };
    const event = (room: { room_sid: string; room_name: string }, name: string, at: string, extra: Record<string, string> = {}) => ({
      AccountSid: TEST_TWILIO.accountSid,
      RoomSid: room.room_sid,
      RoomName: room.room_name,
      RoomStatus: name === 'room-ended' ? 'completed' : 'in-progress',
      RoomType: 'group',
      StatusCallbackEvent: name,
      Timestamp: at,
      SequenceNumber: '0',
      ...extra,
    });

    test('creating a room: the exact request Twilio receives, with no PHI', async () => {
      const margaret = byName('Margaret Thompson');
      const visit = await start();
      assert.equal(visit.provider, 'twilio');
      const creates = mock.requests.filter((r) => r.method === 'POST' && r.path === '/v1/Rooms');
      assert.equal(creates.length, 1);
      const request = creates[0]!;
      assert.equal(request.headers.authorization, `Basic ${Buffer.from(`${TEST_TWILIO.accountSid}:${TEST_TWILIO.authToken}`).toString('base64')}`);
      assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.deepEqual(Object.fromEntries(request.form), {
        UniqueName: visit.roomName,
        Type: 'group',
        MaxParticipants: '2',
        StatusCallback: `${TEST_TWILIO.baseUrl}/webhooks/twilio/video-status?ref=${visit.id}`,
        StatusCallbackMethod: 'POST',
        RecordParticipantsOnConnect: 'false',
        UnusedRoomTimeout: '10',
        EmptyRoomTimeout: '10',
      });
      const sent = request.form.toString() + request.path;
      for (const phi of [margaret.name, 'Margaret', 'Thompson', margaret.phone!, margaret.phone!.slice(1), margaret.externalId, margaret.id, 'Amelia', 'Lee']) {
        assert.ok(!decodeURIComponent(sent).includes(phi), `the request must not contain ${phi}`);
      }
      const row = await entry(visit.correspondenceId);
      assert.equal(row.provider_sid, [...mock.rooms.keys()][0]);
      assert.equal(row.status, 'created');
    });

    test('the practitioner’s Video token: this room only, at most two hours, an opaque identity', async () => {
      const visit = await start();
      const ids = await identities(visit.id);
      const header = decodeProtectedHeader(visit.token);
      assert.equal(header.cty, 'twilio-fpa;v=1');
      const claims = decodeJwt(visit.token) as { iss: string; sub: string; exp: number; nbf?: number; iat?: number; grants: { identity: string; video: { room: string } } };
      assert.equal(claims.sub, TEST_TWILIO.accountSid);
      assert.equal(claims.iss, TEST_TWILIO.accountSid, 'signed with the account SID when no API key is set (the original spec)');
      assert.deepEqual(claims.grants.video, { room: visit.roomName });
      assert.equal(claims.grants.identity, ids.practitioner_identity);
      assert.match(claims.grants.identity, /^practitioner-[0-9a-f]{16}$/);
      const ttl = claims.exp - Math.floor(Date.now() / 1000);
      assert.ok(ttl <= 7200 && ttl > 7000, `ttl ${ttl}`);
      assert.ok(claims.exp <= Math.ceil(Date.parse(visit.expiresAt) / 1000));

      const seat = await api(server, `/api/v1/join/${visit.joinUrl.split('/join/')[1]}`, { method: 'POST' });
      assert.equal(seat.status, 200);
      assert.equal(seat.body.provider, 'twilio');
      const patient = decodeJwt(seat.body.token) as { grants: { identity: string; video: { room: string } } };
      assert.deepEqual(patient.grants.video, { room: visit.roomName });
      assert.equal(patient.grants.identity, ids.patient_identity);
      assert.notEqual(patient.grants.identity, claims.grants.identity);

      // The join page lets twilio-video reach Twilio, and nothing else.
      const page = await fetch(`${server.url}/join/${visit.joinUrl.split('/join/')[1]}`);
      assert.match(page.headers.get('content-security-policy')!, /connect-src 'self' https:\/\/\*\.twilio\.com wss:\/\/\*\.twilio\.com;/);
      // No sandbox signalling on Twilio.
      assert.equal((await api(server, `/api/v1/video-visits/${visit.id}/signal`, { token: lee })).status, 404);
    });

    test('status callbacks: participants by identity, statuses in order, duplicates and late events change nothing', async () => {
      const visit = await start();
      const ids = await identities(visit.id);
      const t0 = Date.parse('2026-01-05T09:00:00Z');
      const at = (s: number) => new Date(t0 + s * 1000).toISOString();
      const practitioner = { ParticipantSid: 'PA' + '1'.repeat(32), ParticipantIdentity: ids.practitioner_identity, ParticipantStatus: 'connected' };
      const patient = { ParticipantSid: 'PA' + '2'.repeat(32), ParticipantIdentity: ids.patient_identity, ParticipantStatus: 'connected' };

      const first = await callback(visit.id, event(ids, 'participant-connected', at(0), practitioner));
      assert.equal(first.status, 204);
      assert.equal((await entry(visit.correspondenceId)).status, 'waiting');
      await callback(visit.id, event(ids, 'track-added', at(1), { ...practitioner, TrackKind: 'video' }));
      // A stranger (not one of our identities) is ignored.
      await callback(visit.id, event(ids, 'participant-connected', at(2), { ParticipantSid: 'PA' + '9'.repeat(32), ParticipantIdentity: 'someone-else' }));
      assert.equal((await entry(visit.correspondenceId)).status, 'waiting');
      await callback(visit.id, event(ids, 'participant-connected', at(10), patient));
      assert.equal((await entry(visit.correspondenceId)).status, 'in-progress');
      const eventsBefore = await server.db.knex('video_visit_events').where({ visit_id: visit.id }).count({ n: '*' });
      await callback(visit.id, event(ids, 'participant-connected', at(10), patient));
      assert.deepEqual(await server.db.knex('video_visit_events').where({ visit_id: visit.id }).count({ n: '*' }), eventsBefore, 'a duplicate is stored once');

      await callback(visit.id, event(ids, 'room-ended', at(130), { RoomDuration: '130' }));
      let row = await entry(visit.correspondenceId);
      assert.equal(row.status, 'completed');
      assert.equal(row.duration_seconds, 120, 'from both present to the end');
      assert.equal(row.session.endedBy, 'provider');
      assert.equal(row.session.startedAt, at(10));
      assert.equal(row.session.endedAt, at(130));

      // Late and repeated events: never back out of completed, duration kept.
      await callback(visit.id, event(ids, 'participant-disconnected', at(131), { ...patient, ParticipantStatus: 'disconnected' }));
      await callback(visit.id, event(ids, 'participant-connected', at(140), { ...patient, ParticipantSid: 'PA' + '3'.repeat(32) }));
      await callback(visit.id, event(ids, 'room-ended', at(200)));
      row = await entry(visit.correspondenceId);
      assert.equal(row.status, 'completed');
      assert.equal(row.duration_seconds, 120);
      const statuses = await server.db.knex('correspondence_events').where({ correspondence_id: visit.correspondenceId }).orderBy('id').pluck('status');
      assert.deepEqual(statuses, ['created', 'waiting', 'in-progress', 'completed']);
      assert.equal((await fetch(`${server.url}/join/${visit.joinUrl.split('/join/')[1]}`)).status, 410);
    });

    test('out of order: the room’s end arriving before its participants still gives the right duration', async () => {
      const visit = await start();
      const ids = await identities(visit.id);
      const t0 = Date.parse('2026-01-05T10:00:00Z');
      const at = (s: number) => new Date(t0 + s * 1000).toISOString();
      await callback(visit.id, event(ids, 'room-ended', at(95)));
      await callback(visit.id, event(ids, 'participant-connected', at(5), { ParticipantSid: 'PA' + '4'.repeat(32), ParticipantIdentity: ids.patient_identity }));
      await callback(visit.id, event(ids, 'participant-connected', at(35), { ParticipantSid: 'PA' + '5'.repeat(32), ParticipantIdentity: ids.practitioner_identity }));
      const row = await entry(visit.correspondenceId);
      assert.equal(row.status, 'completed');
      assert.equal(row.duration_seconds, 60);
      // Found by RoomSid alone, too (a callback without our ref).
      const other = await start();
      const otherIds = await identities(other.id);
      const path = '/webhooks/twilio/video-status';
      const params = event(otherIds, 'participant-connected', at(0), { ParticipantSid: 'PA' + '6'.repeat(32), ParticipantIdentity: otherIds.practitioner_identity });
      const res = await fetch(server.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(TEST_TWILIO.authToken, TEST_TWILIO.baseUrl + path, params) },
        body: new URLSearchParams(params).toString(),
      });
      assert.equal(res.status, 204);
      assert.equal((await entry(other.correspondenceId)).status, 'waiting');
    });

    test('Twilio ending a room the patient never joined: closed at once, logged as not answered once its reports are all in', async () => {
      const visit = await start('Lucas Silva');
      const ids = await identities(visit.id);
      const t0 = Date.parse('2026-01-05T11:00:00Z');
      const at = (s: number) => new Date(t0 + s * 1000).toISOString();
      const practitioner = { ParticipantSid: 'PA' + '7'.repeat(32), ParticipantIdentity: ids.practitioner_identity };
      await callback(visit.id, event(ids, 'participant-connected', at(0), practitioner));
      await callback(visit.id, event(ids, 'participant-disconnected', at(20), practitioner));
      assert.equal((await callback(visit.id, event(ids, 'room-ended', at(620), { RoomDuration: '620' }))).status, 204);
      // The room is over: the link is gone. The outcome waits, as Twilio's reports of the patient may come after the end's.
      assert.equal((await fetch(`${server.url}/join/${visit.joinUrl.split('/join/')[1]}`)).status, 410);
      let row = await entry(visit.correspondenceId);
      assert.equal(row.status, 'waiting');
      assert.equal(row.session.endedAt, at(620));
      await server.app.video.expireOverdue();
      assert.equal((await entry(visit.correspondenceId)).status, 'waiting', 'not settled within the grace period');

      // No report for the grace period: settled by the sweep.
      await server.db.knex('video_visits').where({ id: visit.id }).update({ updated_at: new Date(Date.now() - 3 * 60_000) });
      await server.app.video.expireOverdue();
      row = await entry(visit.correspondenceId);
      assert.equal(row.status, 'no-answer');
      assert.equal(row.duration_seconds, null);
      assert.equal(row.session.startedAt, null);
      assert.equal(row.session.endedBy, 'provider');
      assert.deepEqual(row.session.participants.map((p: { role: string }) => p.role), ['practitioner']);
      assert.equal((await server.db.knex('video_visits').where({ id: visit.id }).first()).status, 'completed');
      assert.equal(mock.requests.filter((r) => r.path === `/v1/Rooms/${ids.room_sid}`).length, 0, 'a room Twilio ended is not completed again');
      const statuses = await server.db.knex('correspondence_events').where({ correspondence_id: visit.correspondenceId }).orderBy('id').pluck('status');
      assert.deepEqual(statuses, ['created', 'waiting', 'no-answer']);

      // A room Twilio ended while the practitioner's dialog was open: its End settles the visit at once.
      const other = await start('Lucas Silva');
      const otherIds = await identities(other.id);
      await callback(other.id, event(otherIds, 'room-ended', at(600)));
      assert.equal((await entry(other.correspondenceId)).status, 'created');
      const ended = await api(server, `/api/v1/video-visits/${other.id}/end`, { token: lee, method: 'POST' });
      assert.equal(ended.body.status, 'no-answer');
      assert.equal(ended.body.session.endedBy, 'provider');

      // The patient did join, though the room's end was reported first: completed, with its duration.
      const joined = await start('Lucas Silva');
      const joinedIds = await identities(joined.id);
      const patient = { ParticipantSid: 'PA' + '8'.repeat(32), ParticipantIdentity: joinedIds.patient_identity };
      await callback(joined.id, event(joinedIds, 'participant-connected', at(0), { ...practitioner, ParticipantIdentity: joinedIds.practitioner_identity }));
      await callback(joined.id, event(joinedIds, 'room-ended', at(400)));
      await callback(joined.id, event(joinedIds, 'participant-connected', at(30), patient));
      await callback(joined.id, event(joinedIds, 'participant-disconnected', at(90), patient));
      row = await entry(joined.correspondenceId);
      assert.equal(row.status, 'completed');
      assert.equal(row.duration_seconds, 370, 'from both present to the room’s end');
    });

    test('a bad signature is 403 and writes nothing', async () => {
      const visit = await start();
      const ids = await identities(visit.id);
      const before = {
        events: Number((await server.db.knex('video_visit_events').count({ n: '*' }))[0]!.n),
        audit: Number((await server.db.knex('audit_log').count({ n: '*' }))[0]!.n),
      };
      const params = event(ids, 'room-ended', new Date().toISOString());
      for (const signature of ['', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=', twilioSignature(TEST_TWILIO.authToken, `${server.url}/webhooks/twilio/video-status?ref=${visit.id}`, params)]) {
        const res = await callback(visit.id, params, signature);
        assert.equal(res.status, 403);
        assert.equal(JSON.parse(res.text).code, 'forbidden');
      }
      assert.equal(Number((await server.db.knex('video_visit_events').count({ n: '*' }))[0]!.n), before.events);
      assert.equal(Number((await server.db.knex('audit_log').count({ n: '*' }))[0]!.n), before.audit);
      assert.equal((await entry(visit.correspondenceId)).status, 'created');
    });

    test('end completes the room on Twilio, idempotently', async () => {
      const visit = await start();
      const ids = await identities(visit.id);
      const res = await api(server, `/api/v1/video-visits/${visit.id}/end`, { token: lee, method: 'POST' });
      assert.equal(res.status, 200);
      // Nobody joined: logged as not answered, at once (our own end leaves no report to wait for).
      assert.equal(res.body.status, 'no-answer');
      assert.equal(res.body.durationSeconds, null);
      const updates = mock.requests.filter((r) => r.path === `/v1/Rooms/${ids.room_sid}`);
      assert.equal(updates.length, 1);
      assert.deepEqual(Object.fromEntries(updates[0]!.form), { Status: 'completed' });
      assert.equal(mock.rooms.get(ids.room_sid)!.status, 'completed');
      const again = await api(server, `/api/v1/video-visits/${visit.id}/end`, { token: lee, method: 'POST' });
      assert.equal(again.status, 200);
      assert.equal(again.body.status, 'no-answer');
      // Twilio's own room-ended callback afterwards is a duplicate.
      await callback(visit.id, event(ids, 'room-ended', new Date().toISOString()));
      assert.equal((await entry(visit.correspondenceId)).session.endedBy, 'practitioner');
    });

    test('Twilio refusing the room: 502 provider_error and nothing written', async () => {
      const before = Number((await server.db.knex('video_visits').count({ n: '*' }))[0]!.n);
      const entries = Number((await server.db.knex('correspondence').where({ channel: 'video' }).count({ n: '*' }))[0]!.n);
      mock.failNext(500);
      const res = await api(server, `/api/v1/patients/${byName('Aiko Tanaka').id}/video-visits`, { token: lee, method: 'POST' });
      assert.equal(res.status, 502);
      assert.equal(res.body.code, 'provider_error');
      assert.equal(Number((await server.db.knex('video_visits').count({ n: '*' }))[0]!.n), before);
      assert.equal(Number((await server.db.knex('correspondence').where({ channel: 'video' }).count({ n: '*' }))[0]!.n), entries);
    });

    test('send link goes out through Twilio Messages with the link and no name', async () => {
      const visit = await start('Aiko Tanaka');
      const res = await api(server, `/api/v1/video-visits/${visit.id}/send-link`, { token: lee, method: 'POST' });
      assert.equal(res.status, 202);
      const deadline = Date.now() + 5000;
      while (sms.creates().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      const create = sms.creates().at(-1)!;
      assert.equal(create.form.get('To'), byName('Aiko Tanaka').phone);
      assert.match(create.form.get('Body')!, new RegExp(`^Demo Clinic: your video visit is ready\\. Join here: ${TEST_TWILIO.baseUrl}/join/[A-Za-z0-9_-]{43}$`));
    });
  });
}
