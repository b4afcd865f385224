import { AppError } from '../errors.js';
import { ProviderError } from '../providers/types.js';

/** The 502 a practitioner sees when the phone or video service would not do what was asked (the detail says whether retrying soon may help). */
export const providerFailure = (service: 'phone' | 'video', error: unknown) =>
  new AppError(
    502,
    'provider_error',
    'Bad gateway',
    error instanceof ProviderError && error.kind === 'transient'
      ? `The ${service} service is busy; try again in a moment`
      : `The ${service} service could not carry out the request; try again`,
  );

/** JSON with object keys sorted: jsonb does not keep key order, so compare this way. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}
