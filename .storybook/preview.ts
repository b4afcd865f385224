import type { Decorator, Preview } from '@storybook/web-components-vite';
import { setCustomElementsManifest } from '@storybook/web-components';
import { html } from 'lit';
import { configure } from 'storybook/test';
import customElements from '../packages/elements/custom-elements.json';
import { setCareLocale } from '../packages/elements/src/localization.js';

interface Manifest {
  modules: Array<{ declarations?: Array<{ members?: Array<{ privacy?: string; static?: boolean }> }> }>;
}

/** The manifest lists `@state` fields and protected render hooks too; the docs show the public API. */
function publicApiOnly(manifest: Manifest): Manifest {
  return {
    ...manifest,
    modules: manifest.modules.map((module) => ({
      ...module,
      declarations: module.declarations?.map((declaration) => ({
        ...declaration,
        members: declaration.members?.filter((member) => (member.privacy ?? 'public') === 'public' && !member.static),
      })),
    })),
  };
}

// Autodocs: attributes, properties, events, slots, CSS parts and custom
// properties come from the JSDoc on each element, via the manifest that
// `npm run analyze -w packages/elements` writes.
setCustomElementsManifest(publicApiOnly(customElements as Manifest));

// Play functions wait for data from the fake server and lazily loaded parts
// (the virtualizer, the dialogs); a busy machine needs more than 1 s.
configure({ asyncUtilTimeout: 5000 });

/**
 * Light or dark, from the toolbar or a story's `globals`. The tokens use
 * `light-dark()`, which follows the inherited `color-scheme`, so the elements
 * need nothing more than the page's scheme.
 */
const withColorScheme: Decorator = (story, { globals, viewMode }) => {
  const scheme = globals['theme'] === 'dark' ? 'dark' : 'light';
  // A docs page shows several stories; only a lone story owns the whole page.
  if (viewMode === 'story') document.documentElement.style.colorScheme = scheme;
  return html`<div class="care-story" style="color-scheme: ${scheme}">${story()}</div>`;
};

const preview: Preview = {
  tags: ['autodocs'],
  globalTypes: {
    theme: {
      description: 'Colour scheme of the page around the elements',
      toolbar: {
        title: 'Theme',
        icon: 'mirror',
        items: [
          { value: 'light', title: 'Light' },
          { value: 'dark', title: 'Dark' },
        ],
        dynamicTitle: true,
      },
    },
    locale: {
      description: 'Language of the elements (@lit/localize)',
      toolbar: {
        title: 'Locale',
        icon: 'globe',
        items: [
          { value: 'en', title: 'English' },
          { value: 'es', title: 'Español' },
        ],
        dynamicTitle: true,
      },
    },
  },
  initialGlobals: { theme: 'light', locale: 'en' },
  // The locale is global to every element on the page, so each story sets it
  // before rendering; `<care-comms>` also reads the page's `lang`.
  loaders: [
    async ({ globals }) => {
      const locale = String(globals['locale'] ?? 'en');
      document.documentElement.lang = locale;
      await setCareLocale(locale);
      return {};
    },
  ],
  decorators: [withColorScheme],
  parameters: {
    layout: 'padded',
    controls: { expanded: true },
  },
};

export default preview;
