import { configureLocalization, type LocaleModule } from '@lit/localize';
import { sourceLocale, targetLocales } from './generated/locale-codes.js';

/** Static imports per locale, so bundlers can split each into its own chunk. */
const translations: Record<string, () => Promise<LocaleModule>> = {
  es: () => import('./generated/locales/es.js'),
};

export const supportedLocales: readonly string[] = [sourceLocale, ...targetLocales];

let controls: ReturnType<typeof configureLocalization> | undefined;

/**
 * Switches every CareComms element to `locale` (falling back to English for
 * unsupported ones). Translations load on demand, one small chunk per locale.
 * Configured on first use rather than at import, so importing an element has
 * no side effect.
 */
export function setCareLocale(locale: string): Promise<void> {
  controls ??= configureLocalization({
    sourceLocale,
    targetLocales,
    loadLocale: (code) => translations[code]!(),
  });
  const language = locale.toLowerCase().split('-')[0] ?? sourceLocale;
  return controls.setLocale(supportedLocales.includes(language) ? language : sourceLocale);
}

/** The active locale, for `Intl` formatting. */
export function careLocale(): string {
  return controls?.getLocale() ?? sourceLocale;
}
