import twilio from 'twilio';
import { sameSecret } from '../auth/same-secret.js';

export type WebhookParams = Record<string, string | string[]>;

/** Form fields as Twilio signs them: every field, repeated ones as arrays. */
export function parseWebhookForm(raw: string): WebhookParams {
  const params: WebhookParams = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    // Own properties only, defined rather than assigned: a field named __proto__ or constructor is just a field.
    const previous = Object.hasOwn(params, key) ? params[key] : undefined;
    const next = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
    Object.defineProperty(params, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return params;
}

/**
 * Whether `signature` (the X-Twilio-Signature header) is Twilio's signature of
 * `url` and `params` with this auth token. `url` must be the public URL Twilio
 * called, rebuilt from BASE_URL: behind a proxy the request's own host and
 * scheme are not what Twilio signed.
 */
export function isValidTwilioSignature(authToken: string, signature: string | undefined, url: string, params: WebhookParams): boolean {
  if (!signature) return false;
  try {
    // The URL as configured with Twilio is the one it signs: one HMAC. The library's variants of it
    // (with and without the port, re-encoded; up to six HMACs) are tried only when that one differs.
    return sameSecret(signature, twilioSignature(authToken, url, params)) || twilio.validateRequest(authToken, signature, url, params);
  } catch {
    return false;
  }
}

/** The same check for webhooks with a JSON body, signed through the URL's bodySHA256 parameter. */
export function isValidTwilioBodySignature(authToken: string, signature: string | undefined, url: string, body: string): boolean {
  if (!signature) return false;
  try {
    return twilio.validateRequestWithBody(authToken, signature, url, body);
  } catch {
    return false;
  }
}

/** Twilio's signature for a URL and params (for tests and the benchmark's signed requests). */
export function twilioSignature(authToken: string, url: string, params: WebhookParams): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params as Record<string, string>);
}
