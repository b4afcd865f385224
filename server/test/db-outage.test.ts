import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { api, openEvents, startServer, waitUntil, type TestServer } from './helpers.js';

/**
 * PostgreSQL stopped and started again mid-run, on a private cluster of our
 * own (the shared one is left alone): requests fail with 503 problem+json and
 * write nothing half-way, the server recovers by itself, and an SSE client
 * reconnecting with Last-Event-ID misses nothing written meanwhile.
 */
const pgBin = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => existsSync(`${d}/pg_ctl`)) : undefined;
const asPostgres = (args: string[]) => {
  // initdb and postgres refuse to run as root: run them as the postgres user when we are root.
  const [cmd, ...rest] = args;
  return process.getuid?.() === 0 ? spawnSync('su', ['postgres', '-s', '/bin/sh', '-c', [cmd, ...rest].map((a) => `'${a}'`).join(' ')], { encoding: 'utf8' }) : spawnSync(cmd!, rest, { encoding: 'utf8' });
};
const canRun = Boolean(pgBin) && (process.getuid?.() !== 0 || spawnSync('id', ['postgres']).status === 0);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('database down and back (private PostgreSQL)', { skip: canRun ? false : 'no PostgreSQL server binaries on this machine', timeout: 180_000 }, () => {
  let dir: string;
  let port: number;
  let server: TestServer;
  const pgctl = (...args: string[]) => {
    const result = asPostgres([`${pgBin}/pg_ctl`, '-D', path.join(dir, 'data'), '-w', '-t', '60', ...args]);
    assert.equal(result.status, 0, result.stderr + result.stdout);
  };

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'carecomms-pg-'));
    chmodSync(dir, 0o777);
    port = await freePort();
    const init = asPostgres([`${pgBin}/initdb`, '-D', path.join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
    assert.equal(init.status, 0, init.stderr);
    pgctl('start', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', path.join(dir, 'log'));
    server = await startServer('postgres', { databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres` });
  });

  after(async () => {
    await server?.close().catch(() => undefined);
    try {
      pgctl('stop', '-m', 'immediate');
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('503 while down, nothing half-written, recovery on its own, SSE misses nothing', async () => {
    const token = await server.token('dr-lee');
    const key = server.keys.demoClinicApiKey;
    const stream = await openEvents(server, token);
    const write = (body: string) => api(server, '/api/v1/admin/correspondence', { token: key, body: { patient: 'MRN-100231', channel: 'email', body } });
    assert.equal((await write('before the outage')).status, 201);
    await stream.waitFor((e) => e.length === 1);
    const lastId = stream.events[0]!.id!;
    stream.close();
    const before = Number((await server.db.knex('correspondence').count('* as n').first())!.n);

    pgctl('stop', '-m', 'fast');
    const down = await write('during the outage');
    assert.equal(down.status, 503);
    assert.equal(down.headers.get('content-type'), 'application/problem+json');
    assert.equal(down.body.code, 'database_unavailable');
    assert.equal((await api(server, '/api/v1/patients', { token })).status, 503);
    assert.equal((await api(server, '/readyz')).status, 503);

    pgctl('start', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', path.join(dir, 'log'));
    // The pool reconnects by itself: no restart of our server.
    const deadline = Date.now() + 30_000;
    while ((await api(server, '/readyz')).status !== 200) {
      assert.ok(Date.now() < deadline, 'recovered within 30 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const after = Number((await server.db.knex('correspondence').count('* as n').first())!.n);
    assert.equal(after, before, 'the failed write left nothing behind');
    assert.equal((await write('after the outage')).status, 201);

    // The LISTEN connections come back by themselves (realtime events, outbox, sandbox)…
    await waitUntil(
      async () => Number((await server.db.knex('pg_stat_activity').where({ application_name: 'carecomms-listen' }).count('* as n').first())!.n) >= 1,
      15_000,
      'the listener to reconnect',
    );
    // …so a connected client hears new events again.
    const live = await openEvents(server, token);
    const marker = `live after the outage ${Date.now()}`;
    await write(marker);
    await live.waitFor((e) => e.some((x) => JSON.parse(x.data).body === marker), 4000);
    live.close();

    // A client that was away resumes from its last event id and gets what it missed.
    const resumed = await openEvents(server, token, lastId);
    await resumed.waitFor((e) => e.some((x) => JSON.parse(x.data).body === 'after the outage'));
    assert.deepEqual(resumed.events.map((e) => JSON.parse(e.data).body).slice(0, 2), ['after the outage', marker]);
    resumed.close();
  });
});
