/** `npm run analyze`: writes custom-elements.json from the JSDoc on each element. */
export default {
  globs: ['src/**/*.ts'],
  exclude: ['src/**/*.test.ts', 'src/**/*.stories.ts', 'src/test-fixtures/**', 'src/generated/**'],
  outdir: '.',
  litelement: true,
  packagejson: false,
  plugins: [
    {
      // The analyzer also reads `dispatchEvent(new CareXEvent(arg))` as an event
      // named after `arg`; the real names are in the @fires tags.
      name: 'care-events-only',
      packageLinkPhase({ customElementsManifest }) {
        for (const mod of customElementsManifest.modules) {
          for (const declaration of mod.declarations ?? []) {
            if (declaration.events) declaration.events = declaration.events.filter((e) => e.name?.startsWith('care-'));
          }
        }
      },
    },
  ],
};
