import type { StorybookConfig } from '@storybook/web-components-vite';
import { defaultClientConditions, mergeConfig } from 'vite';

/**
 * Storybook for `packages/elements`: one stories file per element folder,
 * driven by the same fake API server and sample data as the element tests.
 * Offline by design: telemetry and the "what's new" feed are off, and the only
 * addon is the docs addon (autodocs from the custom-elements manifest).
 */
const config: StorybookConfig = {
  stories: ['../packages/elements/src/**/*.stories.ts'],
  addons: ['@storybook/addon-docs'],
  framework: { name: '@storybook/web-components-vite', options: {} },
  core: { disableTelemetry: true, disableWhatsNewNotifications: true },
  viteFinal: (viteConfig) =>
    mergeConfig(viteConfig, {
      resolve: {
        // Workspace packages export their TypeScript under "source"; resolve
        // @carecomms/core and @carecomms/sdk from it instead of a stale dist/.
        conditions: ['source', ...defaultClientConditions],
      },
      // Lit's decorators are the legacy kind: the root tsconfig sets both
      // options, and esbuild must apply them to every story and element.
      esbuild: {
        tsconfigRaw: { compilerOptions: { experimentalDecorators: true, useDefineForClassFields: false } },
      },
      // A local docs site, not what users download (that is `npm run build`):
      // skipping minification and gzip reports of Storybook's own multi-MB
      // runtime saves a third of the build time, which the e2e test pays.
      build: { chunkSizeWarningLimit: 4000, reportCompressedSize: false, minify: false },
    }),
};

export default config;
