import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { PRACTITIONER_GONE_MS } from '../src/services/video-visits.js';
import { api, databases, FAST_OUTBOX_ENV, openEvents, startServer, waitUntil, type TestServer } from './helpers.js';

interface Visit {
  id: string;
  correspondenceId: string;
  token: string;
  joinUrl: string;
  expiresAt: string;
  provider: string;
  roomName: string;
}

interface SignalEvent {
  event: string;
  data: { type: string; from: string; data?: unknown };
}

/** Holds a sandbox seat: the signal stream of one visit, as a browser would. */
async function openSignal(server: { url: string }, visitId: string, token: string) {
  const controller = new AbortController();
  const res = await fetch(`${server.url}/api/v1/video-visits/${visitId}/signal`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: controller.signal,
  });
  const events: SignalEvent[] = [];
  let ended = false;
  if (res.ok) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let index;
          while ((index = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, index);
            buffer = buffer.slice(index + 2);
            const event = /^event: (.+)$/m.exec(block)?.[1];
            const data = /^data: (.+)$/m.exec(block)?.[1];
            if (event && data) events.push({ event, data: JSON.parse(data) });
          }
        }
      } catch {
        // aborted
      }
      ended = true;
    })();
  }
  return {
    status: res.status,
    body: res.ok ? null : await res.json(),
    events,
    get ended() {
      return ended;
    },
    has: (type: string) => events.some((e) => e.event === type),
    close: () => controller.abort(),
  };
}

const tokenOf = (joinUrl: string) => joinUrl.split('/join/')[1]!;

for (const kind of databases()) {
  describe(`video visits, sandbox provider (${kind})`, () => {
    let server: TestServer;
    let lee: string;
    let patel: string;
    let other: string;
    let patients: Array<{ id: string; name: string; externalId: string; phone: string | null; optedOut: boolean }>;
    let ip = 0;
    /** A fresh client address, so the join rate limit of one test does not spill into the next. */
    const client = () => ({ 'x-forwarded-for': `203.0.113.${++ip}` });

    before(async () => {
      server = await startServer(kind, { env: FAST_OUTBOX_ENV });
      [lee, patel, other] = await Promise.all([server.token('dr-lee'), server.token('dr-patel'), server.token('dr-other')]);
      patients = (await api(server, '/api/v1/patients', { token: lee })).body.items;
    });
    after(async () => {
      await server.close();
    });

    const byName = (name: string) => patients.find((p) => p.name === name)!;
    const start = async (name = 'Margaret Thompson', token = lee) => {
      const res = await api<Visit>(server, `/api/v1/patients/${byName(name).id}/video-visits`, { token, method: 'POST' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body;
    };
    const entry = async (id: string) => (await server.db.knex('correspondence').where({ id }).first()) as Record<string, any>;
    const join = (token: string, headers = client()) => api(server, `/api/v1/join/${token}`, { method: 'POST', headers });
    const page = async (token: string, headers: Record<string, string> = client()) => {
      const res = await fetch(`${server.url}/join/${token}`, { headers });
      return { status: res.status, headers: res.headers, text: await res.text() };
    };

    test('start: 201 with a seat token, an opaque room, a hashed join link and a created video entry', async () => {
      const before = Date.now();
      const margaret = byName('Margaret Thompson');
      const visit = await start();
      assert.deepEqual(Object.keys(visit).sort(), ['correspondenceId', 'expiresAt', 'id', 'joinUrl', 'provider', 'roomName', 'token']);
      assert.equal(visit.provider, 'sandbox');
      assert.match(visit.joinUrl, new RegExp(`^${server.config.baseUrl}/join/[A-Za-z0-9_-]{43}$`));
      const after = Date.now();
      // The server counts two hours from its own clock, truncated to the second, somewhere between before and after.
      const expires = Date.parse(visit.expiresAt);
      assert.ok(
        expires <= after + 2 * 3600_000 && expires > before + 2 * 3600_000 - 1000,
        `expires two hours after the request, got ${expires - before} ms after its start (${after - before} ms to answer)`,
      );
      assert.match(visit.roomName, /^visit-[0-9a-f]{32}$/);

      const claims = decodeJwt(visit.token);
      assert.equal(claims.sub, visit.id);
      assert.equal(claims.role, 'practitioner');
      assert.ok(claims.exp! - claims.iat! <= 7200);

      const row = await entry(visit.correspondenceId);
      assert.equal(row.channel, 'video');
      assert.equal(row.direction, 'outbound');
      assert.equal(row.status, 'created');
      assert.equal(row.patient_id, margaret.id);
      assert.equal(row.session.roomName, visit.roomName);
      assert.match(row.session.roomSid, /^RM[0-9a-f]{32}$/);

      // Only the hash of the join token is stored, anywhere.
      const raw = tokenOf(visit.joinUrl);
      const links = await server.db.knex('join_links').where({ visit_id: visit.id });
      assert.equal(links.length, 1);
      assert.equal(links[0].token_hash, createHash('sha256').update(raw).digest('hex'));
      assert.equal(new Date(links[0].expires_at).toISOString(), visit.expiresAt);
      for (const table of ['join_links', 'video_visits', 'correspondence', 'correspondence_events', 'audit_log', 'realtime_events', 'video_visit_events']) {
        const dump = JSON.stringify(await server.db.knex(table).select('*'));
        assert.ok(!dump.includes(raw), `${table} must not hold the raw join token`);
      }
      const visitRow = await server.db.knex('video_visits').where({ id: visit.id }).first();
      for (const identity of [visitRow.practitioner_identity, visitRow.patient_identity]) {
        assert.match(identity, /^(practitioner|patient)-[0-9a-f]{16}$/);
      }

      const history = await api(server, `/api/v1/correspondence?patientId=${margaret.id}&channel=video`, { token: lee });
      assert.equal(history.body.items[0].id, visit.correspondenceId);
      // The history says who the visit was for before any link is texted; a patient without a phone has no contact.
      assert.equal(history.body.items[0].contact, margaret.phone);
      const grace = await start('Grace Kim');
      assert.equal((await entry(grace.correspondenceId)).contact, null);
    });

    test('a patient the practitioner may not see, or another tenant’s visit, is 404', async () => {
      // dr-patel does not see James; dr-other is another clinic.
      const james = byName("James O'Connor");
      assert.equal((await api(server, `/api/v1/patients/${james.id}/video-visits`, { token: patel, method: 'POST' })).status, 404);
      assert.equal((await api(server, `/api/v1/patients/${james.id}/video-visits`, { token: other, method: 'POST' })).status, 404);
      assert.equal((await api(server, `/api/v1/patients/not-a-uuid/video-visits`, { token: lee, method: 'POST' })).status, 404);
      assert.equal((await api(server, `/api/v1/patients/${james.id}/video-visits`, { method: 'POST' })).status, 401);

      const visit = await start("James O'Connor");
      for (const token of [patel, other]) {
        for (const action of ['end', 'send-link']) {
          const res = await api(server, `/api/v1/video-visits/${visit.id}/${action}`, { token, method: 'POST' });
          assert.equal(res.status, 404, `${action} as another practitioner`);
          assert.equal(res.body.code, 'not_found');
        }
        assert.equal((await openSignal(server, visit.id, token)).status, 404);
      }
      assert.equal((await api(server, `/api/v1/video-visits/00000000-0000-4000-8000-000000000000/end`, { token: lee, method: 'POST' })).status, 404);
      assert.equal((await entry(visit.correspondenceId)).status, 'created', 'nothing changed');
    });

    test('the join page: the room for a live link, 404 for a forged one, with a strict CSP', async () => {
      const visit = await start();
      const ok = await page(tokenOf(visit.joinUrl));
      assert.equal(ok.status, 200);
      assert.match(ok.headers.get('content-type')!, /^text\/html/);
      assert.match(ok.text, /<care-video-room join-token="[A-Za-z0-9_-]{43}" locale="en"><\/care-video-room>/);
      assert.match(ok.text, /<script type="module" src="\/cdn\/carecomms.js"><\/script>/);
      assert.doesNotMatch(ok.text, /<script>|<script type="module">/, 'no inline script');
      const csp = ok.headers.get('content-security-policy')!;
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /default-src 'self'/);
      assert.equal(ok.headers.get('cache-control'), 'no-store');
      assert.equal(ok.headers.get('referrer-policy'), 'no-referrer');

      for (const forged of ['A'.repeat(43), 'short', tokenOf(visit.joinUrl).slice(0, -1) + (tokenOf(visit.joinUrl).endsWith('A') ? 'B' : 'A')]) {
        const res = await page(forged);
        assert.equal(res.status, 404);
        assert.match(res.text, /not recognised/);
        assert.doesNotMatch(res.text, /<care-video-room/);
        const seat = await join(forged);
        assert.equal(seat.status, 404);
        assert.equal(seat.body.code, 'not_found');
      }
    });

    test('the join page speaks the patient’s language: Spanish when Accept-Language prefers it, with the room told the same', async () => {
      const visit = await start();
      const token = tokenOf(visit.joinUrl);
      const lang = (text: string) => /<html lang="([^"]+)">/.exec(text)?.[1];
      const title = (text: string) => /<title>([^<]*)<\/title>/.exec(text)?.[1];
      const headers = (acceptLanguage: string) => ({ ...client(), 'accept-language': acceptLanguage });

      // q-values decide, not the order or the first entry alone; a regional tag counts as its language.
      for (const [accept, expected] of [
        ['es-MX,es;q=0.9,en;q=0.8', 'es'],
        ['es', 'es'],
        ['fr-FR,fr;q=0.9,es;q=0.8,en;q=0.5', 'es'],
        ['en;q=0.3, es-419;q=0.7', 'es'],
        ['en-GB,en;q=0.9,es;q=0.8', 'en'],
        ['es;q=0.2, en', 'en'],
        ['fr, de', 'en'],
        ['', 'en'],
      ] as const) {
        const res = await page(token, headers(accept));
        assert.equal(res.status, 200, accept);
        assert.equal(lang(res.text), expected, `lang for ${JSON.stringify(accept)}`);
        assert.match(res.text, new RegExp(`<care-video-room join-token="${token}" locale="${expected}"></care-video-room>`), `the room agrees for ${JSON.stringify(accept)}`);
        assert.equal(title(res.text), expected === 'es' ? 'Videoconsulta' : 'Video visit');
        assert.match(res.headers.get('vary') ?? '', /accept-language/i);
        assert.equal(res.headers.get('cache-control'), 'no-store');
        assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
        assert.match(res.headers.get('content-security-policy')!, /script-src 'self'(;|$)/);
      }
      const room = await page(token, headers('es-ES'));
      assert.match(room.text, /<noscript><section class="notice" role="alert"><h1>Se necesita JavaScript<\/h1><p>Active JavaScript en su navegador para unirse a la videoconsulta.<\/p><\/section><\/noscript>/);

      // Every notice, in Spanish, with no English left over.
      const english = /not recognised|has ended|Please wait|your clinic|whole link|JavaScript is needed/;
      const unknown = await page('A'.repeat(43), headers('es'));
      assert.equal(unknown.status, 404);
      assert.equal(lang(unknown.text), 'es');
      assert.equal(title(unknown.text), 'Enlace no reconocido');
      assert.match(unknown.text, /<h1>Este enlace no se reconoce<\/h1><p>Compruebe que abrió el enlace completo de su mensaje.<\/p><p>Si sigue sin funcionar, pida un enlace nuevo a su clínica.<\/p>/);
      assert.doesNotMatch(unknown.text, english);
      assert.match(unknown.headers.get('vary') ?? '', /accept-language/i);

      const limit = server.config.video.joinRateLimitPerMinute;
      const limitedHeaders = headers('es-AR,es;q=0.9');
      for (let i = 0; i < limit; i += 1) await page('C'.repeat(43), limitedHeaders);
      const limited = await page(token, limitedHeaders);
      assert.equal(limited.status, 429);
      assert.equal(lang(limited.text), 'es');
      assert.equal(title(limited.text), 'Espere un momento');
      assert.match(limited.text, /<h1>Espere un momento, por favor<\/h1><p>Se ha intentado abrir este enlace demasiadas veces en poco tiempo.<\/p><p>Espere un minuto y vuelva a abrirlo.<\/p>/);
      assert.doesNotMatch(limited.text, english);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);

      assert.equal((await api(server, `/api/v1/video-visits/${visit.id}/end`, { token: lee, method: 'POST' })).status, 200);
      const ended = await page(token, headers('es'));
      assert.equal(ended.status, 410);
      assert.equal(lang(ended.text), 'es');
      assert.equal(title(ended.text), 'Videoconsulta terminada');
      assert.match(ended.text, /<h1>Esta videoconsulta ha terminado<\/h1><p>El enlace ya no es válido: la consulta terminó o el enlace caducó.<\/p><p>Si aún necesita hablar con su profesional sanitario, contacte con su clínica.<\/p>/);
      assert.doesNotMatch(ended.text, english);
      const endedEnglish = await page(token, headers('en-US'));
      assert.equal(lang(endedEnglish.text), 'en');
      assert.match(endedEnglish.text, /<h1>This video visit has ended<\/h1>/);
    });

    test('a link a messaging app took a full stop, comma or bracket into leads to the visit all the same', async () => {
      const visit = await start();
      const token = tokenOf(visit.joinUrl);
      for (const tail of ['.', ',', ').', '%20', '!', '%E2%80%A6']) {
        const res = await fetch(`${server.url}/join/${token}${tail}`, { headers: client(), redirect: 'manual' });
        assert.equal(res.status, 302, tail);
        assert.equal(new URL(res.headers.get('location')!, server.url).pathname, `/join/${token}`, tail);
      }
      const followed = await fetch(`${server.url}/join/${token}.`, { headers: client() });
      assert.equal(followed.status, 200);
      assert.match(await followed.text(), new RegExp(`<care-video-room join-token="${token}"`));
      // Not a way to reach a visit from a longer or different token.
      for (const wrong of [`${token}A`, `${token.slice(0, 42)}.`, `x${token}.`]) {
        const res = await fetch(`${server.url}/join/${wrong}`, { headers: client(), redirect: 'manual' });
        assert.equal(res.status, 404, wrong);
      }
    });

    test('a link cut off after /join/ (a truncated SMS) gets the friendly 404 page, not JSON', async () => {
      for (const path of ['/join/', '/join']) {
        for (const [accept, heading] of [
          ['en', 'This link is not recognised'],
          ['es-CO', 'Este enlace no se reconoce'],
        ] as const) {
          const res = await fetch(`${server.url}${path}`, { headers: { ...client(), 'accept-language': accept } });
          const text = await res.text();
          assert.equal(res.status, 404, path);
          assert.match(res.headers.get('content-type')!, /^text\/html/, path);
          assert.match(text, new RegExp(`<h1>${heading}</h1>`), `${path} ${accept}`);
          assert.doesNotMatch(text, /<care-video-room|problems\/not-found/);
          assert.equal(res.headers.get('cache-control'), 'no-store', path);
          assert.match(res.headers.get('vary') ?? '', /accept-language/i);
          assert.match(res.headers.get('content-security-policy')!, /script-src 'self'(;|$)/);
        }
      }
    });

    test('a sandbox visit: seats, statuses created → waiting → in-progress → completed, signalling, a second device replacing the first', async () => {
      const visit = await start();
      const events = await openEvents(server, lee);
      const seat = await join(tokenOf(visit.joinUrl));
      assert.equal(seat.status, 200);
      assert.equal(seat.body.visitId, visit.id);
      assert.equal(seat.body.provider, 'sandbox');
      assert.equal(seat.body.clinicName, 'Demo Clinic');
      assert.equal(seat.body.practitionerName, 'Dr Amelia Lee');
      assert.equal(seat.body.roomName, visit.roomName);
      assert.equal(decodeJwt(seat.body.token).role, 'patient');
      const link = await server.db.knex('join_links').where({ visit_id: visit.id }).first();
      assert.equal(link.use_count, 1);

      // The practitioner's seat, by session token (the seat token works too).
      const practitioner = await openSignal(server, visit.id, lee);
      assert.equal(practitioner.status, 200);
      await waitUntil(async () => (await entry(visit.correspondenceId)).status === 'waiting', 10_000, 'waiting');

      const patient = await openSignal(server, visit.id, seat.body.token);
      assert.equal(patient.status, 200);
      await waitUntil(() => practitioner.has('peer-joined') && patient.has('peer-joined'), 10_000, 'presence');
      await waitUntil(async () => (await entry(visit.correspondenceId)).status === 'in-progress', 10_000, 'in-progress');

      // Messages go to the other seat only, stamped with the sender's role.
      const sent = await api(server, `/api/v1/video-visits/${visit.id}/signal`, { token: lee, body: { type: 'offer', data: { type: 'offer', sdp: 'v=0' } } });
      assert.equal(sent.status, 202);
      assert.equal(sent.body.delivered, true);
      await waitUntil(() => patient.events.some((e) => e.event === 'offer' && e.data.from === 'practitioner'), 10_000, 'offer');
      const answer = await api(server, `/api/v1/video-visits/${visit.id}/signal`, { token: seat.body.token, body: { type: 'answer', data: { type: 'answer', sdp: 'v=0' } } });
      assert.equal(answer.status, 202);
      await waitUntil(() => practitioner.events.some((e) => e.event === 'answer' && e.data.from === 'patient'), 10_000, 'answer');
      // Presence and `bye` belong to the server.
      for (const type of ['bye', 'peer-joined', 'replaced']) {
        const refused = await api(server, `/api/v1/video-visits/${visit.id}/signal`, { token: seat.body.token, body: { type } });
        assert.equal(refused.status, 422, type);
      }

      // The same link on a second phone: it takes the seat, the first device is told and let go.
      const second = await join(tokenOf(visit.joinUrl));
      assert.equal(second.status, 200);
      const patient2 = await openSignal(server, visit.id, second.body.token);
      await waitUntil(() => patient.has('replaced') && patient.ended, 10_000, 'first device replaced');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal((await entry(visit.correspondenceId)).status, 'in-progress', 'the seat never emptied');
      assert.equal(server.app.signalling.isPresent(visit.roomName, 'patient'), true);

      await new Promise((r) => setTimeout(r, 1100));
      const ended = await api(server, `/api/v1/video-visits/${visit.id}/end`, { token: lee, method: 'POST' });
      assert.equal(ended.status, 200);
      assert.equal(ended.body.id, visit.correspondenceId);
      assert.equal(ended.body.channel, 'video');
      assert.equal(ended.body.status, 'completed');
      assert.ok(ended.body.durationSeconds >= 1, `duration ${ended.body.durationSeconds}`);
      assert.equal(ended.body.session.endedBy, 'practitioner');
      assert.ok(ended.body.session.startedAt && ended.body.session.endedAt);
      const roles = (ended.body.session.participants as Array<{ role: string; joinedAt: string }>).map((p) => p.role).sort();
      assert.deepEqual(roles, ['patient', 'patient', 'practitioner']);
      await waitUntil(() => patient2.has('bye') && practitioner.has('bye'), 10_000, 'bye to both seats');
      await waitUntil(() => patient2.ended && practitioner.ended, 10_000, 'streams closed');

      // Idempotent, and the duration does not grow.
      await new Promise((r) => setTimeout(r, 1100));
      const again = await api(server, `/api/v1/video-visits/${visit.id}/end`, { token: lee, method: 'POST' });
      assert.equal(again.status, 200);
      assert.equal(again.body.durationSeconds, ended.body.durationSeconds);
      assert.equal(again.body.status, 'completed');
      const statuses = await server.db.knex('correspondence_events').where({ correspondence_id: visit.correspondenceId }).orderBy('id').pluck('status');
      assert.deepEqual(statuses, ['created', 'waiting', 'in-progress', 'completed']);

      // The link is now gone: the page and the seat answer 410, the signal endpoint too.
      const gone = await page(tokenOf(visit.joinUrl));
      assert.equal(gone.status, 410);
      assert.match(gone.text, /has ended/);
      const late = await join(tokenOf(visit.joinUrl));
      assert.equal(late.status, 410);
      assert.equal(late.body.code, 'visit_ended');
      assert.equal((await openSignal(server, visit.id, second.body.token)).status, 410);

      await events.waitFor((e) => e.some((x) => x.event === 'video.updated' && JSON.parse(x.data).status === 'completed'));
      const videoStatuses = events.events.filter((x) => x.event === 'video.updated' && JSON.parse(x.data).id === visit.id).map((x) => JSON.parse(x.data).status);
      // The stream opened just after the visit was created, so its `created` event may or may not reach it.
      assert.deepEqual([...new Set(videoStatuses)].filter((s) => s !== 'created'), ['waiting', 'in-progress', 'completed']);
      assert.ok(!videoStatuses.slice(videoStatuses.indexOf('waiting')).includes('created'), 'never back to created');
      const updates = events.events.filter((x) => x.event === 'correspondence.updated' && JSON.parse(x.data).id === visit.correspondenceId);
      assert.equal(JSON.parse(updates.at(-1)!.data).status, 'completed');
      events.close();
    });

    test('a visit the patient never joined is logged as not answered, with no duration; one they joined and left, as completed', async () => {
      const visit = await start('Lucas Silva');
      const practitioner = await openSignal(server, visit.id, visit.token);
      await waitUntil(async () => (await entry(visit.correspondenceId)).status === 'waiting', 10_000, 'waiting');
      const ended = await api(server, `/api/v1/video-visits/${visit.id}/end`, { token: lee, method: 'POST' });
      assert.equal(ended.status, 200);
      assert.equal(ended.body.status, 'no-answer');
      assert.equal(ended.body.durationSeconds, null);
      assert.equal(ended.body.session.startedAt, null);
      assert.equal(ended.body.session.endedBy, 'practitioner');
      assert.deepEqual((ended.body.session.participants as Array<{ role: string }>).map((p) => p.role), ['practitioner']);
      await waitUntil(() => practitioner.ended, 10_000, 'seat released');
      // Idempotent; the practitioner's seat leaving after the end changes nothing.
      const again = await api(server, `/api/v1/video-visits/${visit.id}/end`, { token: lee, method: 'POST' });
      assert.equal(again.body.status, 'no-answer');
      assert.equal(again.body.durationSeconds, null);
      const statuses = await server.db.knex('correspondence_events').where({ correspondence_id: visit.correspondenceId }).orderBy('id').pluck('status');
      assert.deepEqual(statuses, ['created', 'waiting', 'no-answer']);
      assert.equal((await page(tokenOf(visit.joinUrl))).status, 410);

      // The patient joined, then left before the practitioner ended the visit: it happened.
      const joined = await start('Lucas Silva');
      const host = await openSignal(server, joined.id, joined.token);
      const patient = await openSignal(server, joined.id, (await join(tokenOf(joined.joinUrl))).body.token);
      await waitUntil(async () => (await entry(joined.correspondenceId)).status === 'in-progress', 10_000, 'in-progress');
      await new Promise((r) => setTimeout(r, 1100));
      patient.close();
      await waitUntil(() => host.has('peer-left'), 10_000, 'patient left');
      await waitUntil(async () => (await entry(joined.correspondenceId)).session.participants.some((p: { role: string; leftAt: string | null }) => p.role === 'patient' && p.leftAt), 10_000, 'left recorded');
      const done = await api(server, `/api/v1/video-visits/${joined.id}/end`, { token: lee, method: 'POST' });
      assert.equal(done.body.status, 'completed');
      assert.ok(done.body.durationSeconds >= 1, `duration ${done.body.durationSeconds}`);
    });

    test('seat tokens: one visit, one role; an expired or foreign token opens nothing', async () => {
      const a = await start();
      const b = await start();
      const seatA = (await join(tokenOf(a.joinUrl))).body;
      assert.equal((await openSignal(server, b.id, seatA.token)).status, 404, 'a seat token names its visit');
      assert.equal((await openSignal(server, b.id, a.token)).status, 404, 'so does the practitioner’s');
      assert.equal((await openSignal(server, a.id, 'garbage')).status, 401);
      const anonymous = await fetch(`${server.url}/api/v1/video-visits/${a.id}/signal`);
      assert.equal(anonymous.status, 401);
      // The seat token is no session token.
      assert.equal((await api(server, '/api/v1/session', { token: seatA.token })).status, 401);
      assert.equal((await api(server, `/api/v1/video-visits/${a.id}/end`, { token: seatA.token, method: 'POST' })).status, 401);
      // The practitioner's seat token opens the practitioner's seat.
      const seat = await openSignal(server, a.id, a.token);
      assert.equal(seat.status, 200);
      seat.close();
    });

    test('send link: a fresh link texted through the SMS pipeline; opt-out, no phone and ended visits refused', async () => {
      const margaret = byName('Margaret Thompson');
      const visit = await start();
      // As if the number on file changed after the visit started: the texted number is the one recorded.
      await server.db.knex('correspondence').where({ id: visit.correspondenceId }).update({ contact: '+61491570999' });
      const res = await api(server, `/api/v1/video-visits/${visit.id}/send-link`, { token: lee, method: 'POST' });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.equal(res.body.channel, 'sms');
      assert.equal(res.body.contact, margaret.phone);
      const url = /https?:\/\/\S+\/join\/[A-Za-z0-9_-]{43}/.exec(res.body.body)?.[0];
      assert.ok(url, res.body.body);
      assert.match(res.body.body, /^Demo Clinic: /);
      assert.ok(!res.body.body.includes('Margaret'), 'no name in the text');
      assert.notEqual(url, visit.joinUrl, 'a new link: only hashes are kept');
      // Delivered by the outbox like any SMS.
      await waitUntil(async () => (await entry(res.body.id)).status === 'delivered', 5000, 'SMS delivered');
      const inbox = await api(server, `/sandbox/api/messages?phone=${encodeURIComponent(margaret.phone!)}`);
      assert.ok(inbox.body.items.some((m: { body: string }) => m.body.includes(url!)));
      // Both links open the same seat.
      assert.equal((await join(tokenOf(url!))).body.visitId, visit.id);
      assert.equal((await join(tokenOf(visit.joinUrl))).body.visitId, visit.id);
      const links = await server.db.knex('join_links').where({ visit_id: visit.id }).orderBy('id');
      assert.deepEqual(links.map((l: { channel: string }) => l.channel), ['dialog', 'sms']);
      const video = await entry(visit.correspondenceId);
      assert.equal(video.contact, margaret.phone);
      assert.ok(video.session.linkSentAt);

      const noah = await start('Noah Williams');
      const optedOut = await api(server, `/api/v1/video-visits/${noah.id}/send-link`, { token: lee, method: 'POST' });
      assert.equal(optedOut.status, 409);
      assert.equal(optedOut.body.code, 'opted_out');
      const grace = await start('Grace Kim');
      const noPhone = await api(server, `/api/v1/video-visits/${grace.id}/send-link`, { token: lee, method: 'POST' });
      assert.equal(noPhone.status, 422);
      assert.equal(noPhone.body.code, 'no_phone');
      // Refused sends leave no usable link behind.
      assert.equal(await server.db.knex('join_links').whereIn('visit_id', [noah.id, grace.id]).andWhere({ channel: 'sms' }).count({ n: '*' }).then((r) => Number(r[0]!.n)), 0);

      await api(server, `/api/v1/video-visits/${visit.id}/end`, { token: lee, method: 'POST' });
      const afterEnd = await api(server, `/api/v1/video-visits/${visit.id}/send-link`, { token: lee, method: 'POST' });
      assert.equal(afterEnd.status, 410);
      assert.equal(afterEnd.body.code, 'visit_ended');
    });

    test('expiry: an expired link is 410, and the sweep ends the visit (not answered: the patient never came)', async () => {
      const visit = await start();
      const practitioner = await openSignal(server, visit.id, visit.token);
      await waitUntil(async () => (await entry(visit.correspondenceId)).status === 'waiting', 10_000, 'waiting');
      await server.db.knex('video_visits').where({ id: visit.id }).update({ expires_at: new Date(Date.now() - 1000) });
      assert.equal((await page(tokenOf(visit.joinUrl))).status, 410);
      assert.equal((await join(tokenOf(visit.joinUrl))).status, 410);
      assert.equal((await openSignal(server, visit.id, visit.token)).status, 410);
      assert.ok((await server.app.video.expireOverdue()) >= 1);
      const row = await entry(visit.correspondenceId);
      assert.equal(row.status, 'no-answer', 'the patient never came');
      assert.equal(row.duration_seconds, null);
      assert.equal(row.session.endedBy, 'expired');
      assert.equal((await server.db.knex('video_visits').where({ id: visit.id }).first()).status, 'completed');
      await waitUntil(() => practitioner.has('bye'), 10_000, 'bye');
    });

    test('a visit the practitioner left (a reload) ends for the patient once they have been gone a minute; one they came back to does not', async () => {
      const left = await start();
      const kept = await start('Aiko Tanaka');
      const patient = await openSignal(server, left.id, (await join(tokenOf(left.joinUrl))).body.token);
      const first = await openSignal(server, left.id, left.token);
      const keptFirst = await openSignal(server, kept.id, kept.token);
      await waitUntil(async () => (await entry(left.correspondenceId)).status === 'in-progress', 10_000, 'in progress');
      await waitUntil(async () => (await entry(kept.correspondenceId)).status === 'waiting', 10_000, 'waiting');
      first.close();
      keptFirst.close();
      const practitionerLeft = async (visitId: string) =>
        (await server.db.knex('video_visit_events').where({ visit_id: visitId, role: 'practitioner', kind: 'participant-disconnected' })).length === 1;
      await waitUntil(() => practitionerLeft(left.id), 10_000, 'left reported');
      await waitUntil(() => practitionerLeft(kept.id), 10_000, 'kept: left reported');
      const again = await openSignal(server, kept.id, kept.token);
      await waitUntil(
        async () => (await server.db.knex('video_visit_events').where({ visit_id: kept.id, role: 'practitioner', kind: 'participant-connected' })).length === 2,
        10_000,
        'came back',
      );
      // Within the minute nothing ends.
      await server.app.video.expireOverdue();
      assert.equal((await entry(left.correspondenceId)).status, 'in-progress');
      // A minute on: the practitioner's reports are older than PRACTITIONER_GONE_MS.
      const aMinuteAgo = new Date(Date.now() - PRACTITIONER_GONE_MS - 1000);
      await server.db.knex('video_visit_events').whereIn('visit_id', [left.id, kept.id]).update({ occurred_at: aMinuteAgo });
      assert.ok((await server.app.video.expireOverdue()) >= 1);
      const ended = await entry(left.correspondenceId);
      assert.equal(ended.status, 'completed', 'the patient had joined');
      assert.equal(ended.session.endedBy, 'practitioner-left');
      assert.equal((await join(tokenOf(left.joinUrl))).status, 410);
      await waitUntil(() => patient.has('bye'), 10_000, 'the patient is told');
      assert.equal((await entry(kept.correspondenceId)).status, 'waiting', 'the practitioner came back');
      again.close();
      patient.close();
      // Its leaving recorded before the next test (a seat event after the server closes would fail).
      await waitUntil(async () => (await server.db.knex('video_visit_events').where({ visit_id: kept.id, role: 'practitioner', kind: 'participant-disconnected' })).length === 2, 10_000, 'left again');
    });

    test('join attempts are rate-limited per client address: 429 problem+json with Retry-After', async () => {
      const visit = await start();
      const headers = client();
      const limit = server.config.video.joinRateLimitPerMinute;
      for (let i = 0; i < limit; i += 1) {
        const res = i % 2 ? await page('B'.repeat(43), headers) : await join('B'.repeat(43), headers);
        assert.equal(res.status, 404);
      }
      const limited = await join(tokenOf(visit.joinUrl), headers);
      assert.equal(limited.status, 429);
      assert.match(limited.headers.get('content-type')!, /application\/problem\+json/);
      assert.equal(limited.body.code, 'rate_limited');
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      const limitedPage = await page(tokenOf(visit.joinUrl), headers);
      assert.equal(limitedPage.status, 429);
      assert.ok(Number(limitedPage.headers.get('retry-after')) >= 1);
      // Another address is unaffected.
      assert.equal((await join(tokenOf(visit.joinUrl))).status, 200);
    });

    test('the session offers video; the OpenAPI document describes the video endpoints', async () => {
      const session = await api(server, '/api/v1/session', { token: lee });
      assert.ok(session.body.features.includes('video'));
      const doc = (await api(server, '/api/v1/openapi.json')).body;
      for (const path of ['/api/v1/patients/{id}/video-visits', '/api/v1/video-visits/{id}/send-link', '/api/v1/video-visits/{id}/end', '/api/v1/video-visits/{id}/signal', '/api/v1/join/{token}', '/join/{token}']) {
        assert.ok(doc.paths[path], path);
      }
    });
  });
}
