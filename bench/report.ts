import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { benchHistory } from './history.js';
import { machine } from './lib.js';

const lines: string[] = [
  '# Benchmark results',
  '',
  `Run ${new Date().toISOString()} on ${machine()}. Every figure is compared with a baseline measured in the same run.`,
  '',
];

const history = await benchHistory();
lines.push('## History page on PostgreSQL', '', '| what | req/s | p50 ms | p99 ms | vs baseline | errors |', '| --- | ---: | ---: | ---: | --- | ---: |');
for (const [what, r, ratio] of history.rows) lines.push(`| ${what} | ${r.requestsPerSecond} | ${r.p50} | ${r.p99} | ${ratio} | ${r.errors + r.non2xx} |`);
lines.push('', ...history.notes, '');

const file = path.join(import.meta.dirname, 'RESULTS.md');
writeFileSync(file, lines.join('\n'));
console.log(lines.join('\n'));
