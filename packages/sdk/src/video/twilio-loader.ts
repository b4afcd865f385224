/** The `twilio-video` module. */
export type TwilioVideo = typeof import('twilio-video');

/**
 * A loader that runs `load` on first use only: one cached promise, cleared on
 * failure so a later call can retry (STYLE §8, after stripe-js's loader).
 */
export function cachedLoader<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | null = null;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = null;
      throw error;
    });
    return loading;
  };
}

/**
 * Loads `twilio-video` (about 95 KiB gzipped) when the first Twilio visit
 * connects, never at import time; after a failure (a network blip while
 * fetching the chunk) the next visit tries again.
 */
export const loadTwilioVideo: () => Promise<TwilioVideo> = cachedLoader(() =>
  // A CommonJS module: bundlers put its exports on `default`.
  import('twilio-video').then((module) => ((module as unknown as { default?: TwilioVideo }).default ?? module) as TwilioVideo),
);
