#!/usr/bin/env node
// `npm run bench [-- name…]`: runs the benchmarks (all, or those named: history,
// webhooks, tokens, outbox, sse, start, soak, browser) and, for a full run,
// writes bench/RESULTS.md. Figures are ratios against a baseline measured in
// the same run; nothing here is a test.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
// The benchmarks host the app in their own process (and start real servers through
// test/e2e/harness.ts): both run with the flags a server runs with.
const { flags } = JSON.parse(readFileSync(path.join(root, 'server/node-flags.json'), 'utf8'));
const result = spawnSync(process.execPath, [...flags, '--import', 'tsx', '--conditions=source', path.join(root, 'bench/report.ts'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
