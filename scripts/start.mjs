#!/usr/bin/env node
// `npm start`: build the browser packages when their sources are newer than the
// CDN bundle, compile the server when its sources are newer, then run the
// server in demo mode (embedded database, sandbox provider unless Twilio
// credentials are set).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const bundle = path.join(root, 'packages/elements/dist/cdn/carecomms.js');

function newest(dir) {
  let latest = 0;
  if (!existsSync(dir)) return latest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(full));
    else latest = Math.max(latest, statSync(full).mtimeMs);
  }
  return latest;
}

const sources = ['packages/core/src', 'packages/sdk/src', 'packages/elements/src', 'rollup.config.mjs'].map((p) => path.join(root, p));
const sourceTime = Math.max(...sources.map((p) => (existsSync(p) && statSync(p).isFile() ? statSync(p).mtimeMs : newest(p))));
if (!existsSync(bundle) || statSync(bundle).mtimeMs < sourceTime) {
  console.log('Building the browser packages…');
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

// The server runs as JavaScript compiled from server/src (scripts/build-server.mjs,
// well under a second), recompiled when a source is newer: compiling the
// TypeScript through tsx at every start cost seconds. tsx remains the fallback.
const compiledServer = path.join(root, 'server/dist/bin/server.js');
let serverArgs = [compiledServer];
if (!existsSync(compiledServer) || statSync(compiledServer).mtimeMs < newest(path.join(root, 'server/src'))) {
  try {
    await (await import('./build-server.mjs')).buildServer();
    // esbuild keeps a service process for further builds; there are none, so it need not outlive the build.
    (await import('esbuild')).stop();
  } catch (error) {
    console.warn(`Could not compile the server (${error.message}); running it through tsx.`);
    serverArgs = ['--import', 'tsx', '--conditions=source', path.join(root, 'server/src/bin/server.ts')];
  }
}

// The Node.js flags a server runs with (a young generation sized for request
// handling: see server/node-flags.json).
const { flags } = JSON.parse(readFileSync(path.join(root, 'server/node-flags.json'), 'utf8'));
const server = spawn(process.execPath, [...flags, ...serverArgs], { cwd: root, stdio: 'inherit', env: { DEMO: '1', ...process.env } });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
