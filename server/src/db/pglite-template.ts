import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { migrationNames } from '../migrations/index.js';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '../../..');

/**
 * An initialised PGlite cluster with every migration applied, as a tar file,
 * made once by the build (`npm run build`) for the installed PGlite version and
 * the current migrations. A first start copies it instead of running initdb and
 * the migrations, which take seconds in WebAssembly. It holds the schema only:
 * no keys, no data (the demo seed still runs on it).
 */
export function pgliteTemplatePath(): string {
  const schema = createHash('sha256').update(migrationNames.join('\n')).digest('hex').slice(0, 12);
  return path.join(root, 'node_modules/.cache/carecomms', `pglite-${pgliteVersion()}-${schema}.tar`);
}

/** The installed PGlite's version (its package.json is not exported, so found beside its entry point). */
function pgliteVersion(): string {
  for (let dir = path.dirname(require.resolve('@electric-sql/pglite')); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === '@electric-sql/pglite' && pkg.version) return pkg.version;
  }
  return 'unknown';
}

/** Writes `tar` as the template at `file`, aside first and then renamed: a start never reads half a template. */
export function writePgliteTemplate(file: string, tar: Buffer): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.${process.pid}`, tar);
  renameSync(`${file}.${process.pid}`, file);
}

/** The template's contents, when there is one. */
export function readPgliteTemplate(file = pgliteTemplatePath()): Blob | null {
  return existsSync(file) ? new Blob([readFileSync(file)]) : null;
}
