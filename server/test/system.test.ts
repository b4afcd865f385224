import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config.js';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPgliteTemplate, openDatabase } from '../src/db/database.js';
import { removeStalePgliteTemplates } from '../src/db/pglite-template.js';
import { api, databases, startServer, type TestServer } from './helpers.js';

describe('config', () => {
  const base = { SESSION_SECRET: 'x'.repeat(32) };
  const fails = (env: Record<string, string>, name: string) => {
    assert.throws(() => loadConfig({ ...base, ...env }), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(error.message.includes(name), error.message);
      assert.ok(!error.message.includes('\n'));
      return true;
    });
  };
  test('a bad or missing variable is one line naming it', () => {
    fails({ PORT: 'eighty' }, 'PORT');
    fails({ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL');
    fails({ BASE_URL: 'not a url' }, 'BASE_URL');
    fails({ SESSION_SECRET: 'short' }, 'SESSION_SECRET');
    fails({ TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32) }, 'TWILIO_AUTH_TOKEN');
    fails({ TWILIO_API_KEY_SID: 'SK' + '0'.repeat(32) }, 'TWILIO_API_KEY_SECRET');
    assert.throws(() => loadConfig({}), /SESSION_SECRET/);
  });
  test('a secret never appears in the message', () => {
    try {
      loadConfig({ ...base, TWILIO_AUTH_TOKEN: 'supersecretvalue!!' });
      assert.fail('should throw');
    } catch (error) {
      assert.ok(!(error as Error).message.includes('supersecretvalue'));
    }
  });
  test('defaults and Twilio detection', () => {
    const config = loadConfig(base);
    assert.equal(config.port, 3000);
    assert.equal(config.baseUrl, 'http://127.0.0.1:3000');
    assert.equal(config.twilio, null);
    const twilio = loadConfig({ ...base, TWILIO_ACCOUNT_SID: 'AC' + 'a'.repeat(32), TWILIO_AUTH_TOKEN: 'b'.repeat(32), TWILIO_PHONE_NUMBER: '+61491571266', BASE_URL: 'https://ehr.example.com/' });
    assert.equal(twilio.twilio?.phoneNumber, '+61491571266');
    assert.equal(twilio.baseUrl, 'https://ehr.example.com');
  });
});

for (const kind of databases()) {
  describe(`system endpoints (${kind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer(kind);
    });
    after(() => server.close());

    test('health and readiness', async () => {
      assert.deepEqual((await api(server, '/healthz')).body, { status: 'ok' });
      const ready = await api(server, '/readyz');
      assert.equal(ready.status, 200);
      assert.equal(ready.body.database, kind);
    });

    test('the OpenAPI document describes every route, generated from the validating schemas', async () => {
      const res = await api(server, '/api/v1/openapi.json');
      assert.equal(res.status, 200);
      assert.equal(res.body.openapi, '3.1.0');
      for (const path of ['/api/v1/session', '/api/v1/patients', '/api/v1/patients/{id}', '/api/v1/correspondence', '/api/v1/events', '/api/v1/sessions', '/api/v1/admin/patients/{externalId}', '/api/v1/admin/access', '/api/v1/admin/correspondence']) {
        assert.ok(res.body.paths[path], `documents ${path}`);
      }
      const channel = res.body.paths['/api/v1/correspondence'].get.parameters.find((p: { name: string }) => p.name === 'channel');
      assert.deepEqual(channel.schema.enum, ['sms', 'email', 'voice', 'video']);
      assert.ok(res.body.components.schemas.Problem);
    });

    test('unknown routes are problem+json 404', async () => {
      const res = await api(server, '/api/v1/nothing-here');
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      assert.equal(res.body.code, 'not_found');
    });

    test('migrations go down and up again', async () => {
      const db = kind === 'pglite' ? await openDatabase({}) : server.db;
      if (kind === 'pglite') await db.knex.migrate.latest();
      const tables = async () =>
        (await db.knex.raw("select count(*)::int as n from information_schema.tables where table_schema = 'public' and table_name not like 'knex_%'")).rows[0].n;
      const before = await tables();
      assert.ok(before >= 8);
      await db.knex.migrate.rollback(undefined, true);
      assert.equal(await tables(), 0);
      await db.knex.migrate.latest();
      assert.equal(await tables(), before);
      if (kind === 'pglite') await db.close();
    });
  });
}

describe('database down', () => {
  test('requests fail with 503 problem+json, then recover', async () => {
    const server = await startServer('pglite');
    const token = await server.token();
    const knex = server.db.knex;
    const original = knex.client.acquireConnection.bind(knex.client);
    knex.client.acquireConnection = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    };
    try {
      const down = await api(server, '/api/v1/patients', { token });
      assert.equal(down.status, 503);
      assert.equal(down.body.code, 'database_unavailable');
      assert.equal((await api(server, '/readyz')).status, 503);
    } finally {
      knex.client.acquireConnection = original;
    }
    assert.equal((await api(server, '/api/v1/patients', { token })).status, 200);
    await server.close();
  });
});

describe('embedded database template', () => {
  test('a build removes the templates no start reads any more, not one still being made', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'carecomms-templates-'));
    try {
      for (const name of ['pglite-0.4.0-aaaa', 'pglite-0.5.16-bbbb', 'pglite-0.5.16-cccc.partial-42', 'unrelated']) mkdirSync(path.join(dir, name));
      writeFileSync(path.join(dir, 'pglite-0.5.16-bbbb.tar'), 'old tar');
      removeStalePgliteTemplates(path.join(dir, 'pglite-0.5.16-bbbb'));
      assert.deepEqual(readdirSync(dir).sort(), ['pglite-0.5.16-bbbb', 'pglite-0.5.16-cccc.partial-42', 'unrelated']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });


  test('a new data directory starts from the template, keeps its data, and an unreadable template falls back to initdb', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'carecomms-template-'));
    try {
      const template = await createPgliteTemplate(path.join(dir, 'template'));
      assert.ok(statSync(path.join(template, 'PG_VERSION')).isFile(), 'a whole cluster');
      assert.deepEqual(readdirSync(dir), ['template'], 'made aside, then renamed into place');
      assert.equal(await createPgliteTemplate(template), template, 'made once');

      const dataDir = path.join(dir, 'from-template');
      const db = await openDatabase({ dataDir, pgliteTemplate: template });
      const [, pending] = (await db.knex.migrate.list()) as [unknown[], unknown[]];
      assert.equal(pending.length, 0, 'the template is migrated');
      assert.equal(db.fromTemplate, true, 'the server may skip migrating it');
      await db.knex.migrate.latest();
      const [{ id }] = await db.knex('tenants').insert({ slug: 'template-clinic', name: 'Template Clinic' }).returning('id');
      await db.close();
      const again = await openDatabase({ dataDir, pgliteTemplate: template });
      assert.equal(again.fromTemplate, false, 'an existing directory is opened, not copied over');
      assert.equal((await again.knex('tenants').where({ id }).first()).name, 'Template Clinic', 'the data outlives a restart');
      await again.close();
      const second = await openDatabase({ dataDir: path.join(dir, 'second'), pgliteTemplate: template });
      assert.equal((await second.knex('tenants').where({ id }).first()), undefined, 'a copy: the template itself is untouched');
      await second.close();

      const broken = path.join(dir, 'broken');
      mkdirSync(broken);
      writeFileSync(path.join(broken, 'PG_VERSION'), '99\n');
      const fallback = await openDatabase({ dataDir: path.join(dir, 'from-initdb'), pgliteTemplate: broken });
      assert.equal(fallback.fromTemplate, false);
      await fallback.knex.migrate.latest();
      assert.equal((await fallback.knex('tenants').count({ n: '*' }))[0]!.n, 0);
      await fallback.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
