import koaCors from '@koa/cors';
import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from 'koa';

type Directives = Record<string, string[]>;

/**
 * Our HTML pages (the demo EHR page, the phone simulator, the patient's join
 * page): our own scripts only, no inline script, media from the camera and
 * microphone (`mediastream:`, `blob:`), framed only by our own origin.
 */
export function pageDirectives(twilio: boolean): Directives {
  return {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:', 'blob:'],
    // With Twilio, @twilio/voice-sdk plays its ringing sounds from sdk.twilio.com.
    mediaSrc: ["'self'", 'blob:', 'mediastream:', ...(twilio ? ['https://*.twilio.com', 'https://*.twiliocdn.com'] : [])],
    // With Twilio, the SDKs reach Twilio from the page: twilio-video's signalling
    // (wss://global.vss.twilio.com, wss://sdkgw.us1.twilio.com) and configuration
    // (https://ecs.us1.twilio.com), the Voice SDK's signalling
    // (wss://voice-js.roaming.twilio.com), insights (https://eventgw.twilio.com) and
    // sounds (https://sdk.twilio.com). A `*.` host matches subdomains at any depth.
    // Media itself flows over ICE (STUN/TURN), which CSP does not govern.
    connectSrc: ["'self'", ...(twilio ? ['https://*.twilio.com', 'wss://*.twilio.com'] : [])],
    frameAncestors: ["'self'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    objectSrc: ["'none'"],
  };
}

/** Everything that is not a page (JSON, TwiML, event streams): nothing may run or be framed. */
export const API_DIRECTIVES: Directives = {
  defaultSrc: ["'none'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
};

/** Paths that answer data, not pages. */
const DATA_PATH = /^\/(?:api|webhooks|demo|sandbox\/api)\/|^\/(?:healthz|readyz)$/;
/** Data that must never sit in a cache: patient data, tokens, join links. */
const NO_STORE_PATH = /^\/(?:api|demo|join|sandbox\/api|webhooks)\//;
/** The browser API and the CDN bundle are used from EHR pages on other origins. */
const CROSS_ORIGIN_PATH = /^\/(?:api\/v1\/|cdn\/)/;
/** The host backend's API (tenant API keys) is for servers only: no CORS. */
const SERVER_ONLY_PATH = /^\/api\/v1\/(?:sessions$|admin\/)/;

/**
 * The headers helmet sets with these options, found once by running its
 * middleware against a stand-in response. With static directives (no
 * per-request nonce) helmet sets the same headers on every response, so the
 * middleware sets this list instead of running helmet's chain (a dozen
 * callbacks, and a promise per request through koa-helmet) on every request.
 */
export function helmetHeaders(options: HelmetOptions): ReadonlyArray<readonly [string, string]> {
  const csp = options.contentSecurityPolicy;
  if (csp && typeof csp === 'object' && Object.values(csp.directives ?? {}).some((v) => typeof v === 'function' || (Array.isArray(v) && v.some((x) => typeof x === 'function')))) {
    throw new TypeError('per-request CSP directives cannot be set once');
  }
  const headers: Array<readonly [string, string]> = [];
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      if (typeof value !== 'string') throw new TypeError(`helmet set ${name} to a non-string`);
      headers.push([name, value]);
    },
    removeHeader() {},
  };
  let finished = false;
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    finished = true;
  });
  if (!finished) throw new Error('helmet did not finish synchronously');
  return headers;
}

export interface SecurityOptions {
  /** The Twilio provider is live: pages let its browser SDKs reach Twilio. */
  twilio: boolean;
  /** Origins allowed to call the browser API (`*` for any: it is authorised by bearer tokens, never cookies). */
  corsOrigins: string[];
}

/**
 * Security headers for every response, through helmet: a page CSP on pages and
 * a `default-src 'none'` one on everything else, nosniff, no referrer, HSTS,
 * COOP, and `no-store` on anything that may carry patient data or a token. The
 * browser API and the CDN bundle also answer CORS (bearer tokens, no
 * credentials) and may be loaded by other origins (CORP cross-origin).
 */
export function securityHeaders(options: SecurityOptions): Middleware {
  const common = {
    referrerPolicy: { policy: 'no-referrer' as const },
    crossOriginEmbedderPolicy: false,
  };
  const forPages = helmetHeaders({
    ...common,
    contentSecurityPolicy: { useDefaults: false, directives: pageDirectives(options.twilio) },
    xFrameOptions: { action: 'sameorigin' },
  });
  const forData = helmetHeaders({
    ...common,
    contentSecurityPolicy: { useDefaults: false, directives: API_DIRECTIVES },
    xFrameOptions: { action: 'deny' },
  });
  // The CDN bundle, and browser API answers an EHR page on another origin loads without CORS (a recording in an
  // <audio> element, by its short-lived link): nothing here rides on cookies, so other origins may embed it.
  const forCrossOrigin = helmetHeaders({
    ...common,
    contentSecurityPolicy: { useDefaults: false, directives: API_DIRECTIVES },
    xFrameOptions: { action: 'deny' },
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  });
  const anyOrigin = options.corsOrigins.includes('*');
  const allowed = new Set(options.corsOrigins);
  const cors = koaCors({
    // Reflect only listed origins (or any); an unlisted origin gets no CORS headers.
    origin: (ctx) => {
      const origin = ctx.get('Origin');
      return anyOrigin ? '*' : allowed.has(origin) ? origin : '';
    },
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID'],
    exposeHeaders: ['Retry-After', 'Idempotent-Replayed', 'X-Request-Id', 'Content-Range', 'Accept-Ranges'],
    maxAge: 600,
  });

  return (ctx, next) => {
    const path = ctx.path;
    const crossOrigin = CROSS_ORIGIN_PATH.test(path) && !SERVER_ONLY_PATH.test(path);
    const headers = crossOrigin ? forCrossOrigin : DATA_PATH.test(path) ? forData : forPages;
    for (const [name, value] of headers) ctx.res.setHeader(name, value);
    // Set first, so that problem answers carry it too; a handler may replace it (e.g. `no-store, no-transform` on streams).
    if (NO_STORE_PATH.test(path)) ctx.set('Cache-Control', 'no-store');
    return crossOrigin ? cors(ctx, next) : next();
  };
}
