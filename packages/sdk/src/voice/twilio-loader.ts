/** The parts of `@twilio/voice-sdk` the call session uses. */
export type TwilioVoice = typeof import('@twilio/voice-sdk');

let loading: Promise<TwilioVoice> | null = null;

/**
 * Loads `@twilio/voice-sdk` (about 46 KiB gzipped) when the first Twilio call
 * is placed, never at import time: one cached promise, cleared on failure so
 * a later call can retry (e.g. after a network blip while fetching the chunk).
 */
export function loadTwilioVoice(): Promise<TwilioVoice> {
  loading ??= import('@twilio/voice-sdk').catch((error: unknown) => {
    loading = null;
    throw error;
  });
  return loading;
}
