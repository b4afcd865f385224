#!/usr/bin/env node
// `npm run bench`: runs every benchmark and writes bench/RESULTS.md. Figures are
// ratios against a baseline measured in the same run; nothing here is a test.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const result = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', path.join(root, 'bench/report.ts')], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
