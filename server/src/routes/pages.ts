import path from 'node:path';
import { existsSync } from 'node:fs';
import { send } from '@koa/send';
import type { Middleware } from 'koa';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');
export const CDN_DIR = path.join(REPO_ROOT, 'packages/elements/dist/cdn');
export const EHR_HOST_DIR = path.join(REPO_ROOT, 'examples/ehr-host');
/** The SDK's self-contained browser modules (`npm run build`), e.g. the WebRTC peer the phone simulator uses. */
export const SDK_BROWSER_DIR = path.join(REPO_ROOT, 'packages/sdk/dist/browser');

/** Serves files under `root` at `prefix` (GET/HEAD only, no directory listing, no dotfiles); pages get their CSP from `securityHeaders`. */
export function staticFiles(prefix: string, root: string, options: { maxAge?: number } = {}): Middleware {
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !ctx.path.startsWith(prefix)) return next();
    let relative = ctx.path.slice(prefix.length) || '/';
    if (relative.endsWith('/')) relative += 'index.html';
    if (!existsSync(root)) return next();
    try {
      await send(ctx, relative, { root, maxage: options.maxAge ?? 0, hidden: false });
    } catch (error) {
      if ((error as { status?: number }).status === 404) return next();
      throw error;
    }
  };
}
