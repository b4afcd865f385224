#!/usr/bin/env node
// Compiles the server's TypeScript (server/src) to plain JavaScript in
// server/dist, file by file (no bundling: each module keeps its place, so
// paths built from import.meta.dirname still point at the repository), and
// copies the sandbox phone's static files beside it. `npm start` runs the
// result with plain node: no TypeScript compile at start-up. Also makes the
// embedded database's template (server/src/db/pglite-template.ts) once per
// PGlite version.
import { cpSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const src = path.join(root, 'server/src');
const out = path.join(root, 'server/dist');

function typescriptFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'public' ? [] : typescriptFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

export async function buildServer() {
  rmSync(out, { recursive: true, force: true });
  await build({
    entryPoints: typescriptFiles(src),
    outdir: out,
    outbase: src,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    bundle: false,
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  cpSync(path.join(src, 'sandbox/public'), path.join(out, 'sandbox/public'), { recursive: true });
  // The embedded database's first start copies an initialised, migrated cluster instead of running initdb and the migrations.
  await (await import(path.join(out, 'db/database.js'))).createPgliteTemplate();
  (await import(path.join(out, 'db/pglite-template.js'))).removeStalePgliteTemplates();
}

if (import.meta.url === `file://${process.argv[1]}`) await buildServer();
