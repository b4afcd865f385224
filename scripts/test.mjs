#!/usr/bin/env node
// `npm test`: every test in the repository, one suite after another, then one
// closing line with the totals. Server suites also run on PostgreSQL when
// TEST_DATABASE_URL is set.
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

const steps = [
  { name: 'types', cmd: 'npm', args: ['run', 'typecheck', '--silent'], kind: 'plain' },
  { name: 'core', cmd: 'npm', args: ['test', '--silent', '-w', 'packages/core'], kind: 'node' },
  { name: 'sdk', cmd: 'npm', args: ['test', '--silent', '-w', 'packages/sdk'], kind: 'node' },
  { name: 'server', cmd: 'npm', args: ['test', '--silent', '-w', 'server'], kind: 'node' },
  { name: 'build', cmd: 'npm', args: ['run', 'build', '--silent'], kind: 'plain' },
  { name: 'elements', cmd: 'npm', args: ['test', '--silent', '-w', 'packages/elements'], kind: 'wtr' },
  { name: 'end-to-end', cmd: 'npm', args: ['run', 'test:e2e', '--silent'], kind: 'node' },
];

const only = process.argv.slice(2);
let passed = 0;
let failed = 0;
const failures = [];

function run(step) {
  return new Promise((resolve) => {
    console.log(`\n=== ${step.name} ===`);
    const child = spawn(step.cmd, step.args, { cwd: root, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const relay = (stream, target) =>
      stream.on('data', (chunk) => {
        output += chunk;
        target.write(chunk);
      });
    relay(child.stdout, process.stdout);
    relay(child.stderr, process.stderr);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

for (const step of steps) {
  if (only.length > 0 && !only.includes(step.name)) continue;
  const { code, output } = await run(step);
  let stepFailed = 0;
  if (step.kind === 'node') {
    passed += Number(/^# pass (\d+)/m.exec(output)?.[1] ?? 0);
    stepFailed = Number(/^# fail (\d+)/m.exec(output)?.[1] ?? 0);
  } else if (step.kind === 'wtr') {
    // @web/test-runner's summary: "N passed, M failed" (either part may be absent).
    // It prints progress lines too: the totals are the last ones.
    const last = (re) => Number([...output.matchAll(re)].at(-1)?.[1] ?? 0);
    passed += last(/(\d+) passed/g);
    stepFailed = last(/(\d+) failed/g);
  }
  // A step that failed without reporting failed tests (a crash, a type error) counts once.
  if (code !== 0) {
    failures.push(step.name);
    stepFailed = Math.max(stepFailed, 1);
  }
  failed += stepFailed;
}

if (failures.length > 0) console.log(`\nFailed steps: ${failures.join(', ')}`);
console.log(`\ntests: ${passed} passed, ${failed} failed`);
process.exit(failures.length > 0 ? 1 : 0);
