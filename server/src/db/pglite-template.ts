import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { migrationNames } from '../migrations/index.js';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '../../..');

/** How templates are made (see `createPgliteTemplate`): a change here makes the next build make a new one. */
const TEMPLATE_FORMAT = 'postgres database only';

/**
 * An initialised PGlite cluster with every migration applied, as a data
 * directory, made once by the build (`npm run build`) for the installed PGlite
 * version and the current migrations. A first start copies it instead of
 * running initdb and the migrations, which take seconds in WebAssembly; a
 * plain file copy and open is also 0.3–0.5 s faster here than PGlite
 * unpacking the same cluster from a tar (`loadDataDir`). It holds the schema
 * only: no keys, no data (the demo seed still runs on it). Its one database
 * is `postgres`, the one PGlite opens: initdb's template0 and template1 are
 * dropped (nothing here creates a database), which leaves about 490 files
 * of 1,090 to copy; on this machine's disk the copy's time is per file, and
 * the first start took about 0.25 s less.
 */
export function pgliteTemplatePath(): string {
  const schema = createHash('sha256').update([TEMPLATE_FORMAT, ...migrationNames].join('\n')).digest('hex').slice(0, 12);
  return path.join(root, 'node_modules/.cache/carecomms', `pglite-${pgliteVersion()}-${schema}`);
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

/**
 * Makes a directory by `make(partial)` aside and then renames it into place,
 * so that no reader ever sees half of it. Another process that finished first
 * wins; this one's copy is removed.
 */
export async function writeDirectoryOnce(dir: string, make: (partial: string) => Promise<void> | void): Promise<void> {
  const partial = `${dir}.partial-${process.pid}`;
  mkdirSync(path.dirname(dir), { recursive: true });
  rmSync(partial, { recursive: true, force: true });
  try {
    await make(partial);
    if (!existsSync(dir)) renameSync(partial, dir);
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

/** Copies the template (when there is one) to `dataDir`, which must not exist; false without a template. */
export async function copyPgliteTemplate(dataDir: string, template = pgliteTemplatePath()): Promise<boolean> {
  if (!existsSync(path.join(template, 'PG_VERSION'))) return false;
  await writeDirectoryOnce(dataDir, (partial) => cpSync(template, partial, { recursive: true }));
  return true;
}

/**
 * Removes the templates of other PGlite versions or migration lists (and the
 * tar files earlier builds made), which no start reads any more: each is a
 * whole cluster. Another build's template still being made is left alone.
 */
export function removeStalePgliteTemplates(keep = pgliteTemplatePath()): void {
  const dir = path.dirname(keep);
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name.startsWith('pglite-') && name !== path.basename(keep) && !name.includes('.partial-')) rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}
