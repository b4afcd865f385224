import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import helmet from 'helmet';
import { loadConfig } from '../src/config.js';
import { API_DIRECTIVES, helmetHeaders, pageDirectives } from '../src/http/security.js';
import { api, databases, startServer, twilioEnv, type TestServer } from './helpers.js';
import { startTwilioWithFaults } from './twilio-faults.js';

/** A CSP header as `{ directive: [sources] }`. */
function parseCsp(header: string | null): Record<string, string[]> {
  assert.ok(header, 'a Content-Security-Policy header');
  const out: Record<string, string[]> = {};
  for (const part of header.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out[name] = sources;
  }
  return out;
}

/** CSP Level 3 host-source matching, enough for `scheme://host` and `scheme://*.host` sources. */
function allows(sources: string[], url: string): boolean {
  const target = new URL(url);
  return sources.some((source) => {
    const m = /^(\w+):\/\/(\*\.)?([^/:]+)$/.exec(source);
    if (!m) return false;
    const [, scheme, wildcard, host] = m;
    if (`${scheme}:` !== target.protocol) return false;
    return wildcard ? target.hostname.endsWith(`.${host}`) : target.hostname === host;
  });
}

/** The hosts Twilio documents for CSP (twilio-video and @twilio/voice-sdk READMEs) and that the SDKs we ship use. */
const TWILIO_CONNECT = [
  'wss://global.vss.twilio.com',
  'wss://sdkgw.us1.twilio.com',
  'https://ecs.us1.twilio.com',
  'wss://voice-js.roaming.twilio.com',
  'https://eventgw.twilio.com',
  'https://sdk.twilio.com',
];

const HELMET_EVERYWHERE: Record<string, RegExp> = {
  'x-content-type-options': /^nosniff$/,
  'referrer-policy': /^no-referrer$/,
  'strict-transport-security': /max-age=\d{6,}/,
  'cross-origin-opener-policy': /^same-origin$/,
  'origin-agent-cluster': /^\?1$/,
  'x-permitted-cross-domain-policies': /^none$/,
  'x-dns-prefetch-control': /^off$/,
};

function assertHelmet(headers: Headers, what: string) {
  for (const [name, pattern] of Object.entries(HELMET_EVERYWHERE)) assert.match(headers.get(name) ?? '', pattern, `${name} on ${what}`);
  assert.equal(headers.get('x-powered-by'), null, `no x-powered-by on ${what}`);
}

test('the headers set once per configuration are the ones helmet sets on a response; per-request directives are refused', () => {
  for (const options of [
    { contentSecurityPolicy: { useDefaults: false, directives: pageDirectives(true) }, xFrameOptions: { action: 'sameorigin' as const } },
    { contentSecurityPolicy: { useDefaults: false, directives: API_DIRECTIVES }, crossOriginResourcePolicy: { policy: 'cross-origin' as const } },
  ]) {
    const res = new ServerResponse(new IncomingMessage(new Socket()));
    helmet(options)(res.req, res, (error?: unknown) => assert.ifError(error));
    const expected = Object.entries(res.getHeaders()).map(([name, value]) => [name, String(value)]);
    assert.ok(expected.length >= 10, 'helmet sets its dozen headers');
    assert.deepEqual(
      helmetHeaders(options).map(([name, value]) => [name.toLowerCase(), value]).sort(),
      expected.sort(),
    );
  }
  assert.throws(() => helmetHeaders({ contentSecurityPolicy: { directives: { scriptSrc: ["'self'", () => "'nonce-x'"] } } }), /per-request/);
});

for (const kind of databases()) {
  describe(`security headers (${kind}, sandbox)`, () => {
    let server: TestServer;
    let lee: string;
    let patientId: string;
    before(async () => {
      server = await startServer(kind);
      lee = await server.token('dr-lee');
      patientId = (await api(server, '/api/v1/patients', { token: lee })).body.items[0].id;
    });
    after(() => server.close());

    test('API answers (success and problem) carry nosniff, no-store and a CSP that lets nothing run or frame them', async () => {
      const responses = {
        patients: await api(server, '/api/v1/patients', { token: lee }),
        history: await api(server, `/api/v1/correspondence?patientId=${patientId}`, { token: lee }),
        unauthorised: await api(server, '/api/v1/patients'),
        missing: await api(server, '/api/v1/patients/00000000-0000-4000-8000-000000000000', { token: lee }),
        badJson: await api(server, `/api/v1/patients/${patientId}/messages`, { token: lee, body: '{"body":', headers: { 'content-type': 'application/json' } }),
        demoSession: await api(server, '/demo/session', { body: {} }),
        openapi: await api(server, '/api/v1/openapi.json'),
        sandboxInbox: await api(server, '/sandbox/api/messages?phone=%2B61491570006'),
      };
      assert.deepEqual(
        Object.fromEntries(Object.entries(responses).map(([k, r]) => [k, r.status])),
        { patients: 200, history: 200, unauthorised: 401, missing: 404, badJson: 400, demoSession: 200, openapi: 200, sandboxInbox: 200 },
      );
      for (const [what, res] of Object.entries(responses)) {
        assertHelmet(res.headers, what);
        const csp = parseCsp(res.headers.get('content-security-policy'));
        assert.deepEqual(csp['default-src'], ["'none'"], what);
        assert.deepEqual(csp['frame-ancestors'], ["'none'"], what);
        assert.equal(res.headers.get('x-frame-options'), 'DENY', what);
        assert.match(res.headers.get('cache-control') ?? '', /no-store/, `${what}: patient data and tokens are never cached`);
      }
      assert.match(responses.missing.headers.get('content-type')!, /^application\/problem\+json/);
    });

    test('the event stream keeps its own no-store, no-transform', async () => {
      const res = await fetch(`${server.url}/api/v1/events`, { headers: { authorization: `Bearer ${lee}` } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store, no-transform');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      await res.body?.cancel();
    });

    test('pages (demo EHR, phone simulator, join page) get the strict page CSP: our scripts only, no inline script, no Twilio without Twilio', async () => {
      const visit = await api(server, `/api/v1/patients/${patientId}/video-visits`, { token: lee, body: {} });
      assert.equal(visit.status, 201);
      const pages = {
        demo: await fetch(`${server.url}/`),
        phone: await fetch(`${server.url}/sandbox/phone?phone=%2B61491570006`),
        join: await fetch(new URL(visit.body.joinUrl).pathname.replace(/^/, server.url)),
        forgedJoin: await fetch(`${server.url}/join/not-a-real-token`),
      };
      assert.deepEqual(
        Object.fromEntries(Object.entries(pages).map(([k, r]) => [k, r.status])),
        { demo: 200, phone: 200, join: 200, forgedJoin: 404 },
      );
      for (const [what, res] of Object.entries(pages)) {
        assert.match(res.headers.get('content-type')!, /^text\/html/, what);
        assertHelmet(res.headers, what);
        const csp = parseCsp(res.headers.get('content-security-policy'));
        assert.deepEqual(csp['default-src'], ["'self'"], what);
        assert.deepEqual(csp['script-src'], ["'self'"], `${what}: no inline or eval'd script`);
        assert.deepEqual(csp['connect-src'], ["'self'"], `${what}: the sandbox needs no outside host`);
        assert.deepEqual(csp['object-src'], ["'none'"], what);
        assert.deepEqual(csp['base-uri'], ["'none'"], what);
        assert.deepEqual(csp['frame-ancestors'], ["'self'"], what);
        assert.ok(csp['media-src']!.includes('mediastream:') && csp['media-src']!.includes('blob:'), `${what}: camera and microphone media`);
        assert.ok(csp['img-src']!.includes('blob:'), what);
        assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN', what);
        assert.equal(csp['upgrade-insecure-requests'], undefined, `${what}: the demo runs on plain http://127.0.0.1`);
        await res.body?.cancel();
      }
      for (const what of ['join', 'forgedJoin', 'phone'] as const) assert.equal(pages[what].headers.get('cache-control'), 'no-store', `${what} is never cached`);
      // Every script the demo page and the join page load is our own (no inline script for the CSP to block).
      const demoHtml = await (await fetch(`${server.url}/`)).text();
      for (const script of demoHtml.match(/<script\b[^>]*>/g) ?? []) assert.match(script, /\ssrc="(?:\.\/|\/(?!\/))/, script);
      assert.doesNotMatch(demoHtml, /<script\b[^>]*>[^<\s]/, 'no inline script body');
    });

    test('CORS: the browser API and the CDN bundle answer other origins; the host backend API does not', async () => {
      const origin = 'https://ehr.example.org';
      const preflight = await fetch(`${server.url}/api/v1/patients/${patientId}/messages`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, idempotency-key' },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
      assert.match(preflight.headers.get('access-control-allow-methods')!, /POST/);
      for (const header of ['authorization', 'content-type', 'idempotency-key', 'last-event-id']) {
        assert.match(preflight.headers.get('access-control-allow-headers')!.toLowerCase(), new RegExp(header));
      }
      assert.equal(preflight.headers.get('access-control-allow-credentials'), null, 'bearer tokens, never cookies');

      const actual = await api(server, '/api/v1/patients', { token: lee, headers: { origin } });
      assert.equal(actual.status, 200);
      assert.equal(actual.headers.get('access-control-allow-origin'), '*');
      assert.match(actual.headers.get('access-control-expose-headers')!, /Retry-After/);
      const problem = await api(server, '/api/v1/patients', { headers: { origin } });
      assert.equal(problem.status, 401);
      assert.equal(problem.headers.get('access-control-allow-origin'), '*', 'a problem is readable cross-origin too');

      const cdn = await fetch(`${server.url}/cdn/carecomms.js`, { headers: { origin } });
      assert.equal(cdn.headers.get('access-control-allow-origin'), '*');
      assert.equal(cdn.headers.get('cross-origin-resource-policy'), 'cross-origin', 'EHR pages on other origins load the bundle');
      await cdn.body?.cancel();
      assert.equal(actual.headers.get('cross-origin-resource-policy'), 'cross-origin', 'a recording link plays in an <audio> on the EHR page');
      const page = await fetch(`${server.url}/sandbox/phone`);
      assert.equal(page.headers.get('cross-origin-resource-policy'), 'same-origin');
      await page.body?.cancel();

      for (const path of ['/api/v1/sessions', '/api/v1/admin/access']) {
        const hostOnly = await fetch(server.url + path, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
        assert.equal(hostOnly.headers.get('access-control-allow-origin'), null, `${path} is for the host's servers`);
        assert.equal(hostOnly.headers.get('cross-origin-resource-policy'), 'same-origin', path);
        await hostOnly.body?.cancel();
      }
    });
  });
}

describe('security headers with the Twilio provider', () => {
  let mock: Awaited<ReturnType<typeof startTwilioWithFaults>>;
  let server: TestServer;
  before(async () => {
    mock = await startTwilioWithFaults();
    server = await startServer('pglite', { env: { ...twilioEnv(mock.url), CORS_ORIGINS: 'https://ehr.example.org, https://other.example.net' } });
  });
  after(async () => {
    await server.close();
    await mock.close();
  });

  test('the demo page and the join page let the Twilio SDKs reach Twilio’s documented hosts, and nothing else', async () => {
    const lee = await server.token('dr-lee');
    const patientId = (await api(server, '/api/v1/patients', { token: lee })).body.items[0].id;
    const visit = await api(server, `/api/v1/patients/${patientId}/video-visits`, { token: lee, body: {} });
    assert.equal(visit.status, 201, JSON.stringify(visit.body));
    for (const path of ['/', new URL(visit.body.joinUrl).pathname]) {
      const res = await fetch(server.url + path);
      assert.equal(res.status, 200, path);
      const csp = parseCsp(res.headers.get('content-security-policy'));
      for (const url of TWILIO_CONNECT) assert.ok(allows(csp['connect-src']!, url), `${path}: connect-src allows ${url}`);
      assert.ok(allows(csp['media-src']!, 'https://sdk.twilio.com'), `${path}: the Voice SDK's sounds`);
      for (const url of ['https://evil.example.com', 'wss://twilio.com.evil.example', 'http://global.vss.twilio.com']) {
        assert.ok(!allows(csp['connect-src']!, url), `${path}: connect-src refuses ${url}`);
      }
      assert.deepEqual(csp['script-src'], ["'self'"], 'the SDKs are bundled, never loaded from Twilio');
      await res.body?.cancel();
    }
    // Twilio's webhooks get the data headers too.
    const webhook = await fetch(`${server.url}/webhooks/twilio/sms-status`, { method: 'POST', body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(webhook.status, 403);
    assert.deepEqual(parseCsp(webhook.headers.get('content-security-policy'))['default-src'], ["'none'"]);
  });

  test('CORS_ORIGINS: listed origins only', async () => {
    const lee = await server.token('dr-lee');
    for (const origin of ['https://ehr.example.org', 'https://other.example.net']) {
      const res = await api(server, '/api/v1/session', { token: lee, headers: { origin } });
      assert.equal(res.headers.get('access-control-allow-origin'), origin);
      assert.match(res.headers.get('vary') ?? '', /Origin/i);
    }
    const refused = await api(server, '/api/v1/session', { token: lee, headers: { origin: 'https://evil.example.com' } });
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
  });
});

describe('CORS_ORIGINS config', () => {
  test('is * by default, a list of origins otherwise, and anything else stops start-up', () => {
    const base = { SESSION_SECRET: 'x'.repeat(32) };
    assert.deepEqual(loadConfig(base).http.corsOrigins, ['*']);
    assert.deepEqual(loadConfig({ ...base, CORS_ORIGINS: 'https://a.example, http://localhost:8080' }).http.corsOrigins, ['https://a.example', 'http://localhost:8080']);
    for (const bad of ['ehr.example.com', 'https://a.example/path', 'https://a.example,*', 'javascript:alert(1)']) {
      assert.throws(() => loadConfig({ ...base, CORS_ORIGINS: bad }), /CORS_ORIGINS/, bad);
    }
    assert.equal(loadConfig(base).http.sessionRateLimitPerMinute, 300);
    assert.throws(() => loadConfig({ ...base, SESSION_RATE_LIMIT_PER_MINUTE: '0' }), /SESSION_RATE_LIMIT_PER_MINUTE/);
  });
});

for (const kind of databases()) {
  describe(`session minting is rate-limited per client address (${kind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer(kind, { env: { SESSION_RATE_LIMIT_PER_MINUTE: '3' } });
    });
    after(() => server.close());

    // The app trusts X-Forwarded-For (it runs behind a proxy), so each test plays its own client address.
    const demoSession = (address: string, body: unknown = { practitioner: 'dr-lee' }) =>
      api(server, '/demo/session', { body, headers: { 'x-forwarded-for': address } });
    const hostSession = (address: string, apiKey: string) =>
      api(server, '/api/v1/sessions', {
        body: { practitioner: { externalId: 'dr-rate', name: 'Dr Rate' } },
        headers: { 'x-forwarded-for': address, authorization: `Bearer ${apiKey}` },
      });

    const assertLimited = (res: { status: number; body: any; headers: Headers }) => {
      assert.equal(res.status, 429);
      assert.match(res.headers.get('content-type')!, /^application\/problem\+json/);
      assert.equal(res.body.code, 'rate_limited');
      assert.equal(res.body.status, 429);
      const retryAfter = Number(res.headers.get('retry-after'));
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${res.headers.get('retry-after')}`);
      assert.equal(res.body.retryAfterSeconds, retryAfter);
      assert.equal(res.body.token, undefined);
    };

    test('POST /demo/session: the limit per minute, then 429 problem+json with Retry-After; other addresses are not affected', async () => {
      for (let i = 0; i < 3; i++) assert.equal((await demoSession('203.0.113.1')).status, 200);
      assertLimited(await demoSession('203.0.113.1'));
      // Refused requests still count: hammering does not reopen the window, whatever the body.
      assertLimited(await demoSession('203.0.113.1', { practitioner: 'nobody' }));
      assert.equal((await demoSession('203.0.113.2')).status, 200);
      // Other routes are not limited for the limited address.
      assert.equal((await api(server, '/healthz', { headers: { 'x-forwarded-for': '203.0.113.1' } })).status, 200);
    });

    test('POST /api/v1/sessions: counted before the API key is checked, so guessing keys is slowed too', async () => {
      assert.equal((await hostSession('203.0.113.10', 'cck_wrong')).status, 401);
      assert.equal((await hostSession('203.0.113.10', 'cck_wrong')).status, 401);
      assert.equal((await hostSession('203.0.113.10', server.keys.demoClinicApiKey)).status, 201);
      assertLimited(await hostSession('203.0.113.10', server.keys.demoClinicApiKey));
      assert.equal((await hostSession('203.0.113.11', server.keys.demoClinicApiKey)).status, 201);
    });

    test('the OpenAPI document lists 429 for both routes', async () => {
      const doc = (await api(server, '/api/v1/openapi.json')).body;
      assert.ok(doc.paths['/demo/session'].post.responses['429']);
      assert.ok(doc.paths['/api/v1/sessions'].post.responses['429']);
    });
  });
}

test('the default session limit leaves room for the demo: a page load and a practitioner switch a second for a minute', async () => {
  const server = await startServer('pglite');
  try {
    for (let i = 0; i < 120; i++) assert.equal((await api(server, '/demo/session', { body: { practitioner: i % 2 ? 'dr-lee' : 'dr-patel' } })).status, 200, `session ${i}`);
  } finally {
    await server.close();
  }
});

