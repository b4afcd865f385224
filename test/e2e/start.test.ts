import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodeFlags from '../../server/node-flags.json' with { type: 'json' };
import { freePort } from './harness.js';

const root = path.resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'carecomms-start-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** The command line of each process `pid` started, read from /proc. */
function childCommands(pid: number): string[][] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return children.map((child) => readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').filter(Boolean));
}

test('npm start runs the compiled demo server with the Node.js flags of server/node-flags.json, and stops on SIGTERM', async () => {
  assert.ok(nodeFlags.flags.length > 0);
  const port = await freePort();
  const start = spawn(process.execPath, [path.join(root, 'scripts/start.mjs')], {
    cwd: root,
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  start.stdout.on('data', (c) => (output += c));
  start.stderr.on('data', (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => start.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      assert.equal(start.exitCode, null, `npm start exited early:\n${output}`);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
      if (ready) break;
      assert.ok(Date.now() < deadline, `not ready in 60 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const server = childCommands(start.pid!).find((args) => args.some((arg) => /[\\/]server\.[jt]s$/.test(arg)));
    assert.ok(server, 'start.mjs runs the server as a child process');
    assert.equal(server[0], process.execPath);
    for (const flag of nodeFlags.flags) assert.ok(server.includes(flag), `${flag} in ${server.join(' ')}`);
    assert.ok(server.indexOf(nodeFlags.flags[0]!) < server.findIndex((arg) => arg.endsWith('server.js') || arg.endsWith('server.ts')), 'flags before the script');
    const page = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<care-comms/);
  } finally {
    start.kill('SIGTERM');
  }
  assert.equal(await exited, 0, output);
});

test("the server package's own start script carries the same flags", () => {
  const pkg = JSON.parse(readFileSync(path.join(root, 'server/package.json'), 'utf8')) as { scripts: { start: string } };
  for (const flag of nodeFlags.flags) assert.ok(pkg.scripts.start.split(/\s+/).includes(flag), `${flag} in ${pkg.scripts.start}`);
});
