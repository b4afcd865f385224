import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { parsePhoneNumber } from 'libphonenumber-js';
import { api, databases, FAST_OUTBOX_ENV, openEvents, startServer, twilioEnv, waitUntil, type TestServer } from './helpers.js';

/**
 * Access matrix: for every endpoint that takes a patient (or something of a
 * patient's), a practitioner without a grant and a practitioner of another
 * tenant get 404 — the same answer as for a patient that does not exist — and
 * never a byte of the patient's data. Bad tokens of every kind are 401 on every
 * authenticated route; seat, call and recording tokens open only their own
 * visit or call. The route list comes from the router itself, so a new route
 * that is not placed in this matrix fails the coverage test. Plus hostile input.
 */

const SECRET = 'test-secret-test-secret-test-secret-0123';
const MISSING = '00000000-0000-4000-8000-000000000000';
const derived = (purpose: string) => createHash('sha256').update(`${purpose}:${SECRET}`).digest();

type Caller = 'session' | 'callSeat' | 'none';

interface PatientRoute {
  method: string;
  /** Koa path, as the router has it. */
  path: string;
  /** Which id fills `:id`: the patient's, a call's or a visit's (or none, with the patient in the query). */
  target: 'patient' | 'call' | 'visit' | 'query';
  body?: unknown;
  /** How the owner is authorised (the call signal takes the call's own token, not a session). */
  caller?: Caller;
  /** The owner's answer on the real resource: proves a refusal is not just a broken route. */
  ownerStatus: number;
  /** A stream: the owner's request is aborted once its status is known. */
  stream?: boolean;
}

/**
 * Every route that reads or writes one patient's data, in the order the owner
 * may run them (ending the call and the visit last).
 */
const PATIENT_ROUTES: PatientRoute[] = [
  { method: 'GET', path: '/api/v1/patients/:id', target: 'patient', ownerStatus: 200 },
  { method: 'GET', path: '/api/v1/correspondence', target: 'query', ownerStatus: 200 },
  { method: 'POST', path: '/api/v1/patients/:id/messages', target: 'patient', body: { body: 'Matrix note: bring your blood results' }, ownerStatus: 202 },
  { method: 'POST', path: '/api/v1/patients/:id/calls', target: 'patient', ownerStatus: 201 },
  { method: 'GET', path: '/api/v1/calls/:id', target: 'call', ownerStatus: 200 },
  // Not answered yet: the owner's answer is the call's state (409), so the call was found.
  { method: 'POST', path: '/api/v1/calls/:id/hold', target: 'call', ownerStatus: 409 },
  { method: 'POST', path: '/api/v1/calls/:id/resume', target: 'call', ownerStatus: 409 },
  { method: 'PATCH', path: '/api/v1/calls/:id', target: 'call', body: { notes: 'Matrix notes: discussed medication' }, ownerStatus: 200 },
  { method: 'POST', path: '/api/v1/calls/:id/recording/link', target: 'call', ownerStatus: 201 },
  { method: 'GET', path: '/api/v1/calls/:id/recording', target: 'call', ownerStatus: 200 },
  { method: 'POST', path: '/api/v1/calls/:id/signal', target: 'call', caller: 'callSeat', body: { type: 'mute', data: true }, ownerStatus: 202 },
  { method: 'GET', path: '/api/v1/calls/:id/signal', target: 'call', caller: 'callSeat', ownerStatus: 200, stream: true },
  { method: 'POST', path: '/api/v1/calls/:id/end', target: 'call', ownerStatus: 200 },
  { method: 'POST', path: '/api/v1/patients/:id/video-visits', target: 'patient', ownerStatus: 201 },
  { method: 'POST', path: '/api/v1/video-visits/:id/send-link', target: 'visit', ownerStatus: 202 },
  { method: 'POST', path: '/api/v1/video-visits/:id/signal', target: 'visit', body: { type: 'mute', data: true }, ownerStatus: 202 },
  { method: 'GET', path: '/api/v1/video-visits/:id/signal', target: 'visit', ownerStatus: 200, stream: true },
  { method: 'POST', path: '/api/v1/video-visits/:id/end', target: 'visit', ownerStatus: 200 },
];

/** Routes that list patients' data: a practitioner sees only what they are granted (tested below). */
const LIST_ROUTES = ['GET /api/v1/patients', 'GET /api/v1/correspondence', 'GET /api/v1/events'];

/** Every other route, and why it is not in the matrix. */
const OTHER_ROUTES: Record<string, string> = {
  'GET /healthz': 'liveness, no data',
  'GET /readyz': 'readiness, no data',
  'GET /api/v1/openapi.json': 'the API description',
  'GET /api/v1/session': 'the caller’s own identity (token tests below)',
  'POST /api/v1/sessions': 'host backend, API key (token tests below)',
  'PUT /api/v1/admin/practitioners/:externalId': 'host backend, API key, its own tenant only',
  'PUT /api/v1/admin/patients/:externalId': 'host backend, API key, its own tenant only',
  'PUT /api/v1/admin/access': 'host backend, API key, its own tenant only (tested below)',
  'POST /api/v1/admin/correspondence': 'host backend, API key, its own tenant only (tested below)',
  'GET /join/:token': 'patient join page: the join token is the credential (tested below)',
  'GET /join': 'patient join page without a token (a link cut short): the friendly 404, no data',
  'POST /api/v1/join/:token': 'patient seat: the join token is the credential (tested below)',
  'POST /demo/session': 'demo mode only',
  'GET /sandbox/phone': 'sandbox phone simulator, absent with Twilio (tested below)',
  'GET /sandbox/api/messages': 'sandbox phone simulator',
  'POST /sandbox/api/sms': 'sandbox phone simulator',
  'GET /sandbox/api/events': 'sandbox phone simulator',
  'GET /sandbox/api/calls/events': 'sandbox phone simulator',
  'POST /sandbox/api/calls/:id/answer': 'sandbox phone simulator',
  'POST /sandbox/api/calls/:id/decline': 'sandbox phone simulator',
  'POST /sandbox/api/calls/:id/hangup': 'sandbox phone simulator',
  'GET /sandbox/api/calls/:id/signal': 'sandbox phone simulator',
  'POST /sandbox/api/calls/:id/signal': 'sandbox phone simulator',
  'POST /webhooks/twilio/sms-status': 'Twilio webhook, signed (twilio.test.ts)',
  'POST /webhooks/twilio/sms-inbound': 'Twilio webhook, signed (twilio.test.ts)',
  'POST /webhooks/twilio/voice': 'Twilio webhook, signed (voice-twilio.test.ts)',
  'POST /webhooks/twilio/recording-notice': 'Twilio webhook, signed (voice-twilio.test.ts)',
  'POST /webhooks/twilio/call-status': 'Twilio webhook, signed (voice-twilio.test.ts)',
  'POST /webhooks/twilio/conference-status': 'Twilio webhook, signed (voice-twilio.test.ts)',
  'POST /webhooks/twilio/recording-status': 'Twilio webhook, signed (voice-twilio.test.ts)',
  'POST /webhooks/twilio/video-status': 'Twilio webhook, signed (video-twilio.test.ts)',
};

/** Pages and probes that are not part of the API description. */
const UNDOCUMENTED = new Set(['GET /healthz', 'GET /readyz', 'GET /api/v1/openapi.json', 'GET /sandbox/phone']);

/** `METHOD /path/:param` for every route the app's router serves (HEAD comes with GET). */
function routesOf(server: TestServer): string[] {
  const dispatch = (server.app.koa.middleware as Array<{ router?: { stack: Array<{ path: string; methods: string[] }> } }>).find((m) => m.router);
  assert.ok(dispatch, 'the app mounts a @koa/router');
  return dispatch.router!.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${layer.path}`));
}

/** `METHOD /path/:param` for every operation in the OpenAPI document, with its security schemes. */
async function documented(server: TestServer): Promise<Map<string, string[]>> {
  const doc = (await api(server, '/api/v1/openapi.json')).body as { paths: Record<string, Record<string, { security?: Array<Record<string, string[]>> }>> };
  const out = new Map<string, string[]>();
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      out.set(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`, (operation.security ?? []).flatMap((s) => Object.keys(s)));
    }
  }
  return out;
}

/** A request whose status is all that is wanted: streams are aborted once it is known. */
async function request(server: TestServer, method: string, path: string, token: string | null, body?: unknown) {
  const controller = new AbortController();
  const res = await fetch(server.url + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: controller.signal,
  });
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    controller.abort();
    return { status: res.status, type: res.headers.get('content-type'), text: '', body: null as any };
  }
  const text = await res.text();
  let parsed: any = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: res.status, type: res.headers.get('content-type'), text, body: parsed };
}

for (const kind of databases()) {
  describe(`access matrix (${kind})`, () => {
    let server: TestServer;
    let lee: string;
    let patel: string;
    let other: string;
    let lucas: { id: string; name: string; phone: string; phoneDisplay: string; externalId: string; email: string };
    let tenantId: string;
    let leeId: string;
    /** Lucas's call and visit (dr-lee may see Lucas; dr-patel may not; dr-other is in another clinic). */
    let call: { id: string; token: string; correspondenceId: string };
    let visit: { id: string; token: string; joinUrl: string };
    let secrets: string[];
    let ip = 0;
    const client = () => ({ 'x-forwarded-for': `198.51.100.${++ip}` });

    before(async () => {
      server = await startServer(kind, { env: FAST_OUTBOX_ENV });
      [lee, patel, other] = await Promise.all([server.token('dr-lee'), server.token('dr-patel'), server.token('dr-other')]);
      const found = (await api(server, '/api/v1/patients?q=Lucas', { token: lee })).body.items[0];
      lucas = (await api(server, `/api/v1/patients/${found.id}`, { token: lee })).body;
      const session = (await api(server, '/api/v1/session', { token: lee })).body;
      tenantId = session.tenant.id;
      leeId = session.practitioner.id;
      call = (await api(server, `/api/v1/patients/${lucas.id}/calls`, { token: lee, method: 'POST' })).body;
      visit = (await api(server, `/api/v1/patients/${lucas.id}/video-visits`, { token: lee, method: 'POST' })).body;
      // A recording on the call, as the provider would have reported it, so playback has something to refuse.
      await server.db.knex('correspondence').where({ id: call.correspondenceId }).update({ recording_sid: 'RE' + '4'.repeat(32) });
      const phone = parsePhoneNumber(lucas.phone);
      secrets = [
        lucas.name,
        ...lucas.name.split(' '),
        lucas.phone,
        lucas.phone.slice(1),
        lucas.phoneDisplay,
        phone.formatNational(),
        phone.formatNational().replace(/\D/g, ''),
        phone.nationalNumber,
        lucas.externalId,
        lucas.email,
        lucas.id,
        'blood results',
        'medication',
      ];
    });
    after(() => server.close());

    const pathFor = (route: PatientRoute, ids: { patient: string; call: string; visit: string }) => {
      if (route.target === 'query') return `${route.path}?patientId=${ids.patient}`;
      return route.path.replace(':id', route.target === 'patient' ? ids.patient : route.target === 'call' ? ids.call : ids.visit);
    };
    const noSecrets = (text: string, who: string) => {
      for (const secret of secrets) assert.ok(!text.includes(secret), `${who} sees nothing of “${secret}”: ${text.slice(0, 200)}`);
    };
    const rowCounts = async () => {
      const counts: Record<string, number> = {};
      for (const table of ['correspondence', 'calls', 'call_events', 'video_visits', 'video_visit_events', 'join_links', 'outbox']) {
        counts[table] = Number((await server.db.knex(table).count({ n: '*' }))[0]!.n);
      }
      return counts;
    };

    // One configuration with Twilio is enough to see its routes; the database makes no difference to them.
    if (kind === 'pglite') test('the router’s routes (sandbox and Twilio) are each in the matrix or named with a reason, and the API ones are documented', async () => {
      const twilio = await startServer('pglite', { env: { ...twilioEnv('http://127.0.0.1:9'), TWILIO_TWIML_APP_SID: 'AP' + '7'.repeat(32) } });
      try {
        const placed = new Set([...PATIENT_ROUTES.map((r) => `${r.method} ${r.path}`), ...LIST_ROUTES, ...Object.keys(OTHER_ROUTES)]);
        const served = new Set<string>();
        for (const configured of [server, twilio]) {
          const routes = routesOf(configured);
          const doc = await documented(configured);
          for (const route of routes) {
            served.add(route);
            assert.ok(placed.has(route), `${route} is not in the access matrix: add it to PATIENT_ROUTES, LIST_ROUTES or OTHER_ROUTES`);
            if (!UNDOCUMENTED.has(route)) assert.ok(doc.has(route), `${route} is in the OpenAPI document`);
          }
          for (const route of doc.keys()) assert.ok(routes.includes(route), `documented ${route} is served`);
        }
        // Nothing stale in the matrix either: each entry is a route one of the two configurations serves.
        for (const route of placed) assert.ok(served.has(route), `${route} is listed but not served`);
        // The unauthenticated phone simulator exists only in the sandbox.
        assert.ok(!routesOf(twilio).some((r) => r.includes('/sandbox/')), 'no sandbox routes with Twilio');
        assert.equal((await fetch(`${twilio.url}/sandbox/phone`)).status, 404);
      } finally {
        await twilio.close();
      }
    });

    test('every patient route: ungranted and foreign practitioners get exactly what a missing resource gets, and nothing changes', async () => {
      const real = { patient: lucas.id, call: call.id, visit: visit.id };
      const missing = { patient: MISSING, call: MISSING, visit: MISSING };
      const before = await rowCounts();
      const events = await Promise.all([openEvents(server, patel), openEvents(server, other)]);
      try {
        for (const route of PATIENT_ROUTES) {
          const label = `${route.method} ${route.path}`;
          const reference = await request(server, route.method, pathFor(route, missing), lee, route.body);
          // A practitioner's session is no call token: the call signal refuses it outright, whoever asks.
          const expected = route.caller === 'callSeat' ? 401 : 404;
          assert.equal(reference.status, expected, `${label} for a missing resource`);
          assert.equal(reference.type, 'application/problem+json');
          for (const [who, token] of [['dr-patel (no grant)', patel], ['dr-other (other tenant)', other]] as const) {
            const res = await request(server, route.method, pathFor(route, real), token, route.body);
            assert.equal(res.status, expected, `${who}: ${label}`);
            assert.equal(res.type, 'application/problem+json', `${who}: ${label}`);
            assert.deepEqual(res.body, reference.body, `${who}: ${label} answers as for a missing resource`);
            noSecrets(res.text, `${who}: ${label}`);
          }
        }
        assert.deepEqual(await rowCounts(), before, 'refused requests wrote nothing');
        const entry = await server.db.knex('correspondence').where({ id: call.correspondenceId }).first();
        assert.equal(entry.notes, null);

        // The owner gets through on each route: the refusals above were about access.
        for (const route of PATIENT_ROUTES) {
          const token = route.caller === 'callSeat' ? call.token : lee;
          const res = await request(server, route.method, pathFor(route, real), token, route.body);
          assert.equal(res.status, route.ownerStatus, `dr-lee: ${route.method} ${route.path}: ${res.text.slice(0, 200)}`);
        }
        const lucasEvents = (await server.db.knex('realtime_events').where({ patient_id: lucas.id }).count({ n: '*' }))[0]!.n;
        assert.ok(Number(lucasEvents) > 0, 'the owner’s actions raised events');
        // Give the refused streams time to have received anything they wrongly would.
        await waitUntil(async () => {
          const delivered = await server.db.knex('correspondence').where({ patient_id: lucas.id, channel: 'sms', status: 'delivered' }).first();
          return delivered;
        }, 10_000, 'the SMS delivered');
        await new Promise((r) => setTimeout(r, 300));
        for (const stream of events) {
          assert.equal(stream.status, 200);
          noSecrets(JSON.stringify(stream.events), 'an event stream without access');
        }
      } finally {
        for (const stream of events) stream.close();
      }
    });

    test('lists never leak another tenant’s or an ungranted patient', async () => {
      const phoneDigits = lucas.phone.slice(-6);
      for (const [token, forbidden] of [
        [patel, ['Lucas Silva', "James O'Connor", 'Noah Williams', 'Grace Kim', 'Oliver Brown']],
        [other, ['Lucas Silva', 'Margaret Thompson', 'Aiko Tanaka']],
      ] as const) {
        const patients = JSON.stringify((await api(server, '/api/v1/patients?limit=100', { token })).body);
        const history = JSON.stringify((await api(server, '/api/v1/correspondence?limit=200', { token })).body);
        for (const name of forbidden) {
          assert.ok(!patients.includes(name), `patients list hides ${name}`);
          assert.ok(!history.includes(name), `history hides ${name}`);
        }
        // Searching by name, MRN or phone digits finds nothing of Lucas's.
        for (const q of ['Lucas', lucas.externalId, phoneDigits]) {
          const res = await api(server, `/api/v1/patients?q=${encodeURIComponent(q)}`, { token });
          assert.equal(res.status, 200);
          assert.ok(!res.body.items.some((p: { id: string }) => p.id === lucas.id), `search ${q}`);
        }
        const history2 = await api(server, `/api/v1/correspondence?limit=200`, { token });
        assert.ok(!history2.body.items.some((e: { patientId: string }) => e.patientId === lucas.id));
      }
      const own = await api(server, `/api/v1/patients?q=${lucas.phone.slice(-6)}`, { token: lee });
      assert.ok(own.body.items.some((p: { id: string }) => p.id === lucas.id), 'the search does find Lucas for who may see him');
    });

    test('expired, forged, wrong-audience, wrong-issuer and alg:none tokens, and API keys, are 401 on every session route', async () => {
      const doc = await documented(server);
      const sessionRoutes = [...doc].filter(([, schemes]) => schemes.includes('session') || schemes.includes('callSeat') || schemes.includes('videoSeat')).map(([r]) => r);
      assert.ok(sessionRoutes.length >= 18, `${sessionRoutes.length} session routes`);
      const now = Math.floor(Date.now() / 1000);
      const sign = (opts: { aud?: string; iss?: string; exp?: number; key?: Uint8Array; typ?: string } = {}) =>
        new SignJWT({ tid: tenantId, typ: opts.typ ?? 'session' })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(leeId)
          .setAudience(opts.aud ?? 'carecomms')
          .setIssuer(opts.iss ?? 'carecomms')
          .setIssuedAt()
          .setExpirationTime(opts.exp ?? now + 600)
          .sign(opts.key ?? derived('carecomms-session'));
      const bad: Array<[string, string]> = [
        ['expired', await sign({ exp: now - 5 })],
        ['forged', await sign({ key: new Uint8Array(32).fill(9) })],
        ['signed with the raw secret', await sign({ key: new TextEncoder().encode(SECRET) })],
        ['wrong audience', await sign({ aud: 'twilio' })],
        ['wrong issuer', await sign({ iss: 'evil' })],
        ['alg none', new UnsecuredJWT({ tid: tenantId, typ: 'session' }).setSubject(leeId).setAudience('carecomms').setIssuer('carecomms').setExpirationTime('10m').encode()],
        ['alg none, signature kept', (await sign()).split('.').slice(0, 2).map((p, i) => (i === 0 ? Buffer.from('{"alg":"none"}').toString('base64url') : p)).join('.') + '.'],
        ['host API key', server.keys.demoClinicApiKey],
        ['another tenant’s API key', server.keys.otherClinicApiKey],
      ];
      // The control: the same signer with nothing wrong is accepted.
      assert.equal((await api(server, '/api/v1/session', { token: await sign() })).status, 200);
      for (const route of sessionRoutes) {
        const [method, path] = route.split(' ') as [string, string];
        const url = path.replace(/:\w+/g, MISSING);
        for (const [name, token] of [...bad, ['no token', null] as const]) {
          const res = await request(server, method, url, token, method === 'GET' ? undefined : {});
          assert.equal(res.status, 401, `${name}: ${route}`);
          assert.equal(res.type, 'application/problem+json', `${name}: ${route}`);
          assert.equal(res.body.code, 'unauthorized');
        }
      }
    });

    test('session tokens and other tokens are refused where the host API key is required; a tenant’s key reaches only its own patients', async () => {
      const doc = await documented(server);
      const keyRoutes = [...doc].filter(([, schemes]) => schemes.includes('apiKey')).map(([r]) => r);
      assert.equal(keyRoutes.length, 5);
      const fresh = (await api(server, `/api/v1/patients/${lucas.id}/video-visits`, { token: lee, method: 'POST' })).body;
      const seat = (await api(server, `/api/v1/join/${fresh.joinUrl.split('/join/')[1]}`, { method: 'POST', headers: client() })).body.token;
      assert.ok(seat, 'a patient seat token');
      for (const route of keyRoutes) {
        const [method, path] = route.split(' ') as [string, string];
        for (const [name, token] of [['session', lee], ['call token', call.token], ['seat token', seat], ['unknown key', 'cck_' + 'x'.repeat(32)]] as const) {
          const res = await request(server, method, path.replace(/:\w+/g, 'X-1'), token, {});
          assert.equal(res.status, 401, `${name}: ${route}`);
        }
      }
      // Other Clinic's key cannot write to or grant Demo Clinic's patient.
      const before = await rowCounts();
      const logged = await api(server, '/api/v1/admin/correspondence', {
        token: server.keys.otherClinicApiKey,
        body: { patient: lucas.externalId, channel: 'email', body: 'Planted by another clinic' },
      });
      assert.equal(logged.status, 422);
      assert.equal(logged.body.code, 'unknown_patient');
      const granted = await api(server, '/api/v1/admin/access', { method: 'PUT', token: server.keys.otherClinicApiKey, body: { practitioner: 'dr-other', patients: [lucas.externalId] } });
      assert.equal(granted.status, 422);
      assert.equal(granted.body.code, 'unknown_patient');
      assert.deepEqual(await rowCounts(), before);
      assert.equal((await api(server, `/api/v1/patients/${lucas.id}`, { token: other })).status, 404);
      await api(server, `/api/v1/video-visits/${fresh.id}/end`, { token: lee, method: 'POST' });
    });

    test('seat, call and recording tokens open only their own visit or call, and are no session', async () => {
      const aVisit = (await api(server, `/api/v1/patients/${lucas.id}/video-visits`, { token: lee, method: 'POST' })).body;
      const bVisit = (await api(server, `/api/v1/patients/${lucas.id}/video-visits`, { token: lee, method: 'POST' })).body;
      const aCall = (await api(server, `/api/v1/patients/${lucas.id}/calls`, { token: lee, method: 'POST' })).body;
      const bCall = (await api(server, `/api/v1/patients/${lucas.id}/calls`, { token: lee, method: 'POST' })).body;
      const aSeat = (await api(server, `/api/v1/join/${aVisit.joinUrl.split('/join/')[1]}`, { method: 'POST', headers: client() })).body;
      assert.equal(aSeat.visitId, aVisit.id, 'a join link opens its own visit');
      const signal = { type: 'mute', data: true };

      // A join token for visit A (its patient seat) and A's practitioner seat open nothing of visit B.
      for (const [name, token] of [['patient seat of A', aSeat.token], ['practitioner seat of A', aVisit.token]] as const) {
        assert.equal((await request(server, 'POST', `/api/v1/video-visits/${bVisit.id}/signal`, token, signal)).status, 404, name);
        assert.equal((await request(server, 'GET', `/api/v1/video-visits/${bVisit.id}/signal`, token)).status, 404, name);
        assert.equal((await request(server, 'POST', `/api/v1/video-visits/${aVisit.id}/signal`, token, signal)).status, 202, `${name} on A`);
      }
      // A call token of call A cannot signal on call B; a visit's seat token is no call token and vice versa.
      assert.equal((await request(server, 'POST', `/api/v1/calls/${bCall.id}/signal`, aCall.token, signal)).status, 404);
      assert.equal((await request(server, 'GET', `/api/v1/calls/${bCall.id}/signal`, aCall.token)).status, 404);
      assert.equal((await request(server, 'POST', `/api/v1/calls/${aCall.id}/signal`, aCall.token, signal)).status, 202);
      assert.equal((await request(server, 'POST', `/api/v1/calls/${aCall.id}/signal`, aVisit.token, signal)).status, 401);
      assert.equal((await request(server, 'POST', `/api/v1/video-visits/${aVisit.id}/signal`, aCall.token, signal)).status, 401);
      // A recording link of call A opens no other call's recording.
      await server.db.knex('correspondence').whereIn('id', [aCall.correspondenceId, bCall.correspondenceId]).update({ recording_sid: 'RE' + '5'.repeat(32) });
      const link = (await api(server, `/api/v1/calls/${aCall.id}/recording/link`, { token: lee, method: 'POST' })).body;
      const access = new URL(link.url, server.url).searchParams.get('access')!;
      assert.equal((await request(server, 'GET', `/api/v1/calls/${aCall.id}/recording?access=${access}`, null)).status, 200);
      assert.equal((await request(server, 'GET', `/api/v1/calls/${bCall.id}/recording?access=${access}`, null)).status, 401);

      // None of them is a session (nor is the join token itself).
      const joinToken = aVisit.joinUrl.split('/join/')[1];
      for (const [name, token] of [['patient seat', aSeat.token], ['practitioner seat', aVisit.token], ['call token', aCall.token], ['recording access', access], ['join token', joinToken]] as const) {
        for (const path of ['/api/v1/session', `/api/v1/patients/${lucas.id}`, `/api/v1/correspondence?patientId=${lucas.id}`, '/api/v1/events']) {
          const res = await request(server, 'GET', path, token);
          assert.equal(res.status, 401, `${name} on ${path}`);
          noSecrets(res.text, name);
        }
        assert.equal((await request(server, 'POST', `/api/v1/calls/${aCall.id}/end`, token)).status, 401, `${name} cannot end a call`);
        assert.equal((await request(server, 'POST', `/api/v1/video-visits/${aVisit.id}/end`, token)).status, 401, `${name} cannot end a visit`);
      }

      // Expired and forged seat tokens of the right visit open nothing.
      const seatToken = (opts: { exp: number; key: Uint8Array }) =>
        new SignJWT({ tid: tenantId, typ: 'video-seat', role: 'patient' })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(aVisit.id)
          .setAudience('carecomms')
          .setIssuer('carecomms')
          .setExpirationTime(opts.exp)
          .sign(opts.key);
      const now = Math.floor(Date.now() / 1000);
      assert.equal((await request(server, 'POST', `/api/v1/video-visits/${aVisit.id}/signal`, await seatToken({ exp: now + 600, key: derived('carecomms-video-seat') }), signal)).status, 202, 'control');
      assert.equal((await request(server, 'POST', `/api/v1/video-visits/${aVisit.id}/signal`, await seatToken({ exp: now - 5, key: derived('carecomms-video-seat') }), signal)).status, 401, 'expired');
      assert.equal((await request(server, 'POST', `/api/v1/video-visits/${aVisit.id}/signal`, await seatToken({ exp: now + 600, key: derived('carecomms-session') }), signal)).status, 401, 'forged');

      // The same for call tokens and recording links of the right call.
      const callToken = (typ: string, claims: Record<string, string>, opts: { exp: number; key: Uint8Array }) =>
        new SignJWT({ ...claims, typ, tid: tenantId })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(aCall.id)
          .setAudience('carecomms')
          .setIssuer('carecomms')
          .setExpirationTime(opts.exp)
          .sign(opts.key);
      const callKey = derived('carecomms-call');
      const identity = (await server.db.knex('calls').where({ id: aCall.id }).first()).identity as string;
      const seatClaims = { role: 'practitioner', idn: identity };
      assert.equal((await request(server, 'POST', `/api/v1/calls/${aCall.id}/signal`, await callToken('call-seat', seatClaims, { exp: now + 600, key: callKey }), signal)).status, 202, 'control');
      assert.equal((await request(server, 'POST', `/api/v1/calls/${aCall.id}/signal`, await callToken('call-seat', seatClaims, { exp: now - 5, key: callKey }), signal)).status, 401, 'expired call token');
      assert.equal((await request(server, 'POST', `/api/v1/calls/${aCall.id}/signal`, await callToken('call-seat', seatClaims, { exp: now + 600, key: derived('carecomms-session') }), signal)).status, 401, 'forged call token');
      assert.equal((await request(server, 'POST', `/api/v1/calls/${aCall.id}/signal`, await callToken('call-seat', { ...seatClaims, idn: 'clinician-0000000000000000' }, { exp: now + 600, key: callKey }), signal)).status, 404, 'another identity');
      const recordingClaims = { pid: leeId };
      assert.equal((await request(server, 'GET', `/api/v1/calls/${aCall.id}/recording?access=${await callToken('call-recording', recordingClaims, { exp: now + 600, key: callKey })}`, null)).status, 200, 'control');
      assert.equal((await request(server, 'GET', `/api/v1/calls/${aCall.id}/recording?access=${await callToken('call-recording', recordingClaims, { exp: now - 5, key: callKey })}`, null)).status, 401, 'expired link');
      assert.equal((await request(server, 'GET', `/api/v1/calls/${aCall.id}/recording?access=${await callToken('call-seat', seatClaims, { exp: now + 600, key: callKey })}`, null)).status, 401, 'a call token is no recording link');

      // A join link of a visit that ended opens nothing.
      await api(server, `/api/v1/video-visits/${aVisit.id}/end`, { token: lee, method: 'POST' });
      assert.equal((await api(server, `/api/v1/join/${joinToken}`, { method: 'POST', headers: client() })).status, 410);
      assert.equal((await request(server, 'POST', `/api/v1/video-visits/${aVisit.id}/signal`, aSeat.token, signal)).status, 410);
      for (const id of [bVisit.id]) await api(server, `/api/v1/video-visits/${id}/end`, { token: lee, method: 'POST' });
      for (const id of [aCall.id, bCall.id]) await api(server, `/api/v1/calls/${id}/end`, { token: lee, method: 'POST' });
    });

    test('hostile input gets clear errors and changes nothing', async () => {
      const cases: Array<[string, string, unknown, number]> = [
        ['POST', `/api/v1/patients/${lucas.id}/messages`, { body: 42 }, 422],
        ['POST', `/api/v1/patients/${lucas.id}/messages`, { body: ' \n\t ' }, 422],
        ['POST', `/api/v1/patients/${lucas.id}/messages`, { body: 'x'.repeat(1601) }, 422],
        ['POST', `/api/v1/patients/${lucas.id}/messages`, [], 422],
        ['POST', `/api/v1/patients/${lucas.id}/messages`, '{"body": "unterminated', 400],
        ['GET', `/api/v1/patients/${encodeURIComponent("' OR 1=1 --")}`, undefined, 404],
        ['GET', `/api/v1/patients?q=${encodeURIComponent("%' OR '1'='1")}`, undefined, 200],
        ['GET', `/api/v1/correspondence?patientId=${encodeURIComponent('1; DROP TABLE patients')}`, undefined, 422],
        ['GET', '/api/v1/correspondence?limit=-1', undefined, 422],
        ['GET', '/api/v1/correspondence?channel=sms&channel=voice', undefined, 422],
      ];
      const before = await server.db.knex('correspondence').count('* as n').first();
      for (const [method, path, body, status] of cases) {
        const res = await api(server, path, { method, token: lee, body });
        assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 40)}`);
        if (status >= 400) {
          assert.equal(res.headers.get('content-type'), 'application/problem+json');
          assert.ok(res.body.code && res.body.title, 'a problem with a code');
        }
      }
      const injected = await api(server, `/api/v1/patients?q=${encodeURIComponent("%' OR '1'='1")}`, { token: lee });
      assert.deepEqual(injected.body.items, []);
      assert.deepEqual(await server.db.knex('correspondence').count('* as n').first(), before);
      assert.ok(await server.db.knex.schema.hasTable('patients'));
    });

    test('static files cannot be escaped with ../', async () => {
      for (const path of ['/cdn/../../../package.json', '/cdn/%2e%2e/%2e%2e/%2e%2e/package.json', '/..%2f..%2fpackage.json']) {
        const res = await fetch(server.url + path);
        const text = await res.text();
        assert.ok(!text.includes('"workspaces"'), `${path} does not serve the repository`);
      }
    });
  });
}
