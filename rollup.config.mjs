import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import commonjs from '@rollup/plugin-commonjs';
import json from '@rollup/plugin-json';
import nodeResolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import esbuild from 'rollup-plugin-esbuild';
import minifyHTML from '@lit-labs/rollup-plugin-minify-html-literals';

/**
 * Builds the browser packages:
 * - `packages/core/dist/`, `packages/sdk/dist/` and `packages/elements/dist/`: ESM for bundlers, with
 *   dependencies left as imports (the CDN bundle is the self-contained one).
 * - `packages/elements/dist/cdn/carecomms.js`: everything bundled, minified,
 *   self-registering, dialogs and locales split into lazy chunks.
 */

/** Workspace sources import `./x.js` for `./x.ts` (TypeScript's convention). */
function tsExtensions() {
  return {
    name: 'ts-extensions',
    resolveId(source, importer) {
      if (!importer || !source.startsWith('.') || !source.endsWith('.js')) return null;
      const candidate = resolve(dirname(importer), source.replace(/\.js$/, '.ts'));
      return existsSync(candidate) ? candidate : null;
    },
  };
}

/**
 * esbuild writes its decorator helper into every module that uses decorators (it has no `importHelpers`): one copy
 * per element in the CDN bundle. Each module imports one shared copy instead. The helper's lines become blank lines
 * (its import on the first), so every later line keeps its place and the source map stays right.
 */
function sharedDecoratorHelper() {
  const id = '\0decorate-class';
  const inline = /^var __defProp = Object\.defineProperty;\nvar __getOwnPropDesc = Object\.getOwnPropertyDescriptor;\nvar __decorateClass = \(decorators, target, key, kind\) => \{\n[^]*?\n\};\n/m;
  let helper;
  return {
    name: 'shared-decorator-helper',
    resolveId: (source) => (source === id ? id : null),
    load: (source) => (source === id ? `${helper}export { __decorateClass };\n` : null),
    transform(code, moduleId) {
      const found = moduleId === id ? null : inline.exec(code);
      if (!found) return null;
      helper ??= found[0];
      const lines = found[0].split('\n').length - 1;
      return { code: code.replace(inline, `import { __decorateClass } from '${id}';` + '\n'.repeat(lines)), map: null };
    },
  };
}

const plugins = (minify) => [
  tsExtensions(),
  // For the browser bundle: honour package.json "browser" maps (twilio-video swaps out its Node-only ws and
  // xmlhttprequest) and take the npm `events` package, not Node's built-in module.
  nodeResolve({ exportConditions: ['source', 'browser', 'import', 'default'], extensions: ['.ts', '.js', '.mjs'], browser: minify, preferBuiltins: !minify }),
  // twilio-video is CommonJS; it only ever lands in a lazy chunk of the CDN bundle.
  ...(minify ? [commonjs({ include: /node_modules/ }), json({ preferConst: true })] : []),
  // Also compiles a dependency that publishes TypeScript under the "source" condition, should one be bundled.
  esbuild({ target: 'es2022', tsconfig: 'tsconfig.json', include: /\.ts$/, exclude: [] }),
  // Lit's html`` and css`` templates keep their source indentation unless minified themselves (terser leaves
  // strings alone). Conservative: `/>` kept (svg`` fragments need it), runs of whitespace become one space rather
  // than none (text beside bindings), empty attributes kept (alt="" means something).
  ...(minify
    ? [
        sharedDecoratorHelper(),
        minifyHTML({
          failOnError: true,
          options: { minifyOptions: { keepClosingSlash: true, conservativeCollapse: true, removeEmptyAttributes: false } },
        }),
      ]
    : []),
  ...(minify ? [terser({ ecma: 2022, module: true, compress: { passes: 2 }, format: { comments: false } })] : []),
];

/**
 * Hashed chunks from earlier builds are removed from the output's `chunks/`
 * once this build is written, so the dist folders (and the CDN directory a
 * vendor copies) hold only what the entries can load.
 */
function removeStaleChunks() {
  return {
    name: 'remove-stale-chunks',
    writeBundle(options, bundle) {
      const dir = join(options.dir, 'chunks');
      if (!existsSync(dir)) return;
      for (const file of readdirSync(dir)) if (!(`chunks/${file}` in bundle)) rmSync(join(dir, file));
    },
  };
}

/** Keep bare imports external for the npm builds (the consumer's bundler dedupes Lit etc.). */
const external = (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0');

export default [
  {
    input: { index: 'packages/core/src/index.ts', phone: 'packages/core/src/phone.ts' },
    external,
    plugins: [...plugins(false), removeStaleChunks()],
    output: { dir: 'packages/core/dist', format: 'es', sourcemap: true, chunkFileNames: 'chunks/[name]-[hash].js' },
  },
  {
    input: { index: 'packages/sdk/src/index.ts', 'rtc/index': 'packages/sdk/src/rtc/index.ts', 'video/index': 'packages/sdk/src/video/index.ts', 'voice/index': 'packages/sdk/src/voice/index.ts' },
    external,
    plugins: [...plugins(false), removeStaleChunks()],
    output: { dir: 'packages/sdk/dist', format: 'es', sourcemap: true, chunkFileNames: 'chunks/[name]-[hash].js' },
  },
  {
    input: { index: 'packages/elements/src/index.ts', define: 'packages/elements/src/define.ts' },
    external,
    plugins: plugins(false),
    output: {
      dir: 'packages/elements/dist',
      format: 'es',
      sourcemap: true,
      preserveModules: true,
      preserveModulesRoot: 'packages/elements/src',
    },
  },
  {
    // The sandbox's WebRTC peer as one self-contained module: the phone simulator (plain JS served by the server) imports it.
    input: { rtc: 'packages/sdk/src/rtc/index.ts' },
    plugins: plugins(true),
    output: { dir: 'packages/sdk/dist/browser', format: 'es', sourcemap: true, entryFileNames: '[name].js' },
  },
  {
    input: { carecomms: 'packages/elements/src/define.ts' },
    plugins: [...plugins(true), removeStaleChunks()],
    output: {
      dir: 'packages/elements/dist/cdn',
      format: 'es',
      sourcemap: true,
      entryFileNames: '[name].js',
      chunkFileNames: 'chunks/[name]-[hash].js',
    },
  },
];
