import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, UnsecuredJWT } from 'jose';
import { createHash } from 'node:crypto';
import { api, databases, startServer, type TestServer } from './helpers.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';
const sessionKey = createHash('sha256').update(`carecomms-session:${SECRET}`).digest();

for (const kind of databases()) {
  describe(`auth (${kind})`, () => {
    let server: TestServer;
    let tenantId: string;
    let practitionerId: string;
    before(async () => {
      server = await startServer(kind);
      const session = await api(server, '/api/v1/session', { token: await server.token() });
      tenantId = session.body.tenant.id;
      practitionerId = session.body.practitioner.id;
    });
    after(() => server.close());

    const sign = (claims: Record<string, unknown>, opts: { aud?: string; exp?: number; key?: Uint8Array; iss?: string; sub?: string } = {}) =>
      new SignJWT({ tid: tenantId, typ: 'session', ...claims })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(opts.sub ?? practitionerId)
        .setAudience(opts.aud ?? 'carecomms')
        .setIssuer(opts.iss ?? 'carecomms')
        .setIssuedAt()
        .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 600)
        .sign(opts.key ?? sessionKey);

    test('a valid session token works, and says who it is', async () => {
      const res = await api(server, '/api/v1/session', { token: await sign({}) });
      assert.equal(res.status, 200);
      assert.equal(res.body.practitioner.externalId, 'dr-lee');
      assert.equal(res.body.tenant.name, 'Demo Clinic');
      assert.equal(res.body.provider, 'sandbox');
    });

    test('a token accepted before is refused once it expires (verified tokens are remembered, their expiry is not)', async () => {
      const exp = Math.floor(Date.now() / 1000) + 2;
      const token = await sign({}, { exp });
      assert.equal((await api(server, '/api/v1/session', { token })).status, 200);
      assert.equal((await api(server, '/api/v1/session', { token })).status, 200, 'the remembered token still works');
      await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
      const res = await api(server, '/api/v1/session', { token });
      assert.equal(res.status, 401);
      assert.match(res.body.detail, /expired/);
    });

    const rejected: Array<[string, () => Promise<string | null>]> = [
      ['no token', async () => null],
      ['garbage', async () => 'not-a-jwt'],
      ['expired', () => sign({}, { exp: Math.floor(Date.now() / 1000) - 5 })],
      ['wrong audience', () => sign({}, { aud: 'someone-else' })],
      ['wrong issuer', () => sign({}, { iss: 'evil' })],
      ['forged (other key)', () => sign({}, { key: new Uint8Array(32).fill(7) })],
      ['alg none', async () => new UnsecuredJWT({ tid: tenantId, typ: 'session' }).setSubject(practitionerId).setAudience('carecomms').setIssuer('carecomms').setExpirationTime('10m').encode()],
      ['not a session token', () => sign({ typ: 'join' })],
      ['unknown practitioner', () => sign({}, { sub: '00000000-0000-4000-8000-000000000000' })],
      ['practitioner of another tenant', () => sign({ tid: '00000000-0000-4000-8000-000000000000' })],
      ['API key used as session token', async () => server.keys.demoClinicApiKey],
    ];
    for (const [name, make] of rejected) {
      test(`401 for ${name}`, async () => {
        const token = await make();
        const res = await api(server, '/api/v1/patients', token ? { token } : {});
        assert.equal(res.status, 401);
        assert.equal(res.headers.get('content-type'), 'application/problem+json');
        assert.equal(res.body.code, 'unauthorized');
        assert.equal(res.body.status, 401);
        assert.ok(!JSON.stringify(res.body).includes('Margaret'));
      });
    }

    test('a session token cannot call the host backend API', async () => {
      const res = await api(server, '/api/v1/admin/patients/X-1', { method: 'PUT', token: await server.token(), body: { name: 'Eve' } });
      assert.equal(res.status, 401);
    });

    test('an API key mints a session token for a practitioner it creates', async () => {
      const res = await api(server, '/api/v1/sessions', {
        token: server.keys.demoClinicApiKey,
        body: { practitioner: { externalId: 'dr-new', name: 'Dr New' }, expiresInSeconds: 600 },
      });
      assert.equal(res.status, 201);
      const expires = Date.parse(res.body.expiresAt) - Date.now();
      assert.ok(expires > 590_000 && expires <= 600_000, `expires in ${expires} ms`);
      const session = await api(server, '/api/v1/session', { token: res.body.token });
      assert.equal(session.status, 200);
      assert.equal(session.body.practitioner.name, 'Dr New');
      // A new practitioner has been granted no patients.
      const patients = await api(server, '/api/v1/patients', { token: res.body.token });
      assert.deepEqual(patients.body.items, []);
    });

    test('a wrong API key is 401 and a too-long session is 422', async () => {
      assert.equal((await api(server, '/api/v1/sessions', { token: 'cck_wrong', body: { practitioner: { externalId: 'x', name: 'X' } } })).status, 401);
      const res = await api(server, '/api/v1/sessions', {
        token: server.keys.demoClinicApiKey,
        body: { practitioner: { externalId: 'x', name: 'X' }, expiresInSeconds: 7 * 24 * 3600 },
      });
      assert.equal(res.status, 422);
      assert.equal(res.body.code, 'validation_failed');
      assert.equal(res.body.errors[0].path, 'body.expiresInSeconds');
    });
  });
}
