import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hashApiKey } from '../src/auth/tokens.js';
import { openDatabase } from '../src/db/database.js';

const cli = path.resolve(import.meta.dirname, '../src/bin/tenant.ts');
const run = (dataDir: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', cli, ...args], {
    env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '' },
    encoding: 'utf8',
  });

test('the tenant CLI creates a clinic, prints its key once, stores only the hash, and rotates it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'carecomms-cli-'));
  try {
    const created = run(dir, 'create', '--slug', 'acme', '--name', 'Acme Health', '--phone', '+61491571804');
    assert.equal(created.status, 0, created.stderr);
    const key = created.stdout.trim().split('\n').at(-1)!;
    assert.match(key, /^cck_[A-Za-z0-9_-]{32}$/);
    assert.equal(run(dir, 'create', '--slug', 'acme', '--name', 'Again').status, 65);
    assert.equal(run(dir, 'create', '--slug', 'Bad Slug', '--name', 'X').status, 64);
    const rotated = run(dir, 'rotate-key', '--slug', 'acme');
    assert.equal(rotated.status, 0, rotated.stderr);
    const newKey = rotated.stdout.trim().split('\n').at(-1)!;
    assert.notEqual(newKey, key);

    assert.equal(run(dir, 'recording', '--slug', 'acme', 'on').status, 0);
    assert.equal(run(dir, 'recording', '--slug', 'acme', 'maybe').status, 64);
    assert.equal(run(dir, 'recording', '--slug', 'nobody', 'on').status, 65);

    const db = await openDatabase({ dataDir: path.join(dir, 'pglite') });
    const tenant = await db.knex('tenants').where({ slug: 'acme' }).first();
    await db.close();
    assert.equal(tenant.recording_enabled, true, 'call recording turned on');
    assert.equal(tenant.name, 'Acme Health');
    assert.equal(tenant.twilio_phone_number, '+61491571804');
    assert.equal(tenant.api_key_hash, hashApiKey(newKey));
    assert.ok(!JSON.stringify(tenant).includes(newKey));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
