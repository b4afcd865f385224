import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '../../..');

/**
 * An empty, initialised PGlite cluster as a tar file, made once by the build
 * (`npm run build`) for the installed PGlite version. A first start copies it
 * instead of running initdb, which takes seconds in WebAssembly. It holds no
 * tables, keys or data: migrations and the demo seed still run on it.
 */
export function pgliteTemplatePath(): string {
  return path.join(root, 'node_modules/.cache/carecomms', `pglite-${pgliteVersion()}.tar`);
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

/** Writes the template unless it exists; returns its path. */
export async function createPgliteTemplate(file = pgliteTemplatePath()): Promise<string> {
  if (existsSync(file)) return file;
  const pglite = new PGlite();
  await pglite.waitReady;
  const tar = await pglite.dumpDataDir('none');
  await pglite.close();
  mkdirSync(path.dirname(file), { recursive: true });
  // Written aside, then renamed: a start never reads half a template.
  writeFileSync(`${file}.${process.pid}`, Buffer.from(await tar.arrayBuffer()));
  renameSync(`${file}.${process.pid}`, file);
  return file;
}

/** The template's contents, when there is one. */
export function readPgliteTemplate(file = pgliteTemplatePath()): Blob | null {
  return existsSync(file) ? new Blob([readFileSync(file)]) : null;
}
