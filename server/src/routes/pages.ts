import path from 'node:path';
import { existsSync } from 'node:fs';
import { send } from '@koa/send';
import type { Middleware } from 'koa';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');
export const CDN_DIR = path.join(REPO_ROOT, 'packages/elements/dist/cdn');
export const EHR_HOST_DIR = path.join(REPO_ROOT, 'examples/ehr-host');
/** The SDK's self-contained browser modules (`npm run build`), e.g. the WebRTC peer the phone simulator uses. */
export const SDK_BROWSER_DIR = path.join(REPO_ROOT, 'packages/sdk/dist/browser');

/** Pages get a strict CSP: our scripts only, media from the camera, no inline script. */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self'",
  "frame-ancestors 'self'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/**
 * PAGE_CSP for a page that runs the Twilio browser SDKs (the demo EHR page with
 * the Twilio provider): they reach Twilio themselves (signalling over wss,
 * insights) and the Voice SDK plays its sounds from Twilio's CDN.
 */
export const TWILIO_PAGE_CSP = PAGE_CSP.replace("connect-src 'self'", "connect-src 'self' https://*.twilio.com wss://*.twilio.com").replace(
  "media-src 'self' blob: mediastream:",
  "media-src 'self' blob: mediastream: https://*.twilio.com https://*.twiliocdn.com",
);

/** Serves files under `root` at `prefix` (GET/HEAD only, no directory listing, no dotfiles). */
export function staticFiles(prefix: string, root: string, options: { csp?: boolean | string; maxAge?: number } = {}): Middleware {
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !ctx.path.startsWith(prefix)) return next();
    let relative = ctx.path.slice(prefix.length) || '/';
    if (relative.endsWith('/')) relative += 'index.html';
    if (!existsSync(root)) return next();
    try {
      await send(ctx, relative, { root, maxage: options.maxAge ?? 0, hidden: false });
      if (options.csp && ctx.type === 'text/html') ctx.set('Content-Security-Policy', typeof options.csp === 'string' ? options.csp : PAGE_CSP);
    } catch (error) {
      if ((error as { status?: number }).status === 404) return next();
      throw error;
    }
  };
}
