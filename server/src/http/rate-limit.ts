import { AppError } from '../errors.js';
import type { Context, Middleware } from 'koa';

/**
 * A fixed-window counter per key (e.g. per client IP), in memory. Enough to
 * slow down guessing at join links on one instance; each instance counts on
 * its own, so the effective limit behind a load balancer is per instance.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private lastSweep = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one attempt; throws a 429 `rate_limited` (with `retryAfterSeconds`) once the window's limit is used up. */
  hit(key: string): void {
    const now = this.now();
    this.sweep(now);
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) this.windows.set(key, (window = { count: 0, resetAt: now + this.windowMs }));
    window.count += 1;
    if (window.count > this.limit) {
      const retryAfterSeconds = Math.max(1, Math.ceil((window.resetAt - now) / 1000));
      throw new AppError(429, 'rate_limited', 'Too many requests', `Too many attempts; try again in ${retryAfterSeconds} seconds`, { retryAfterSeconds });
    }
  }

  /** Counts one attempt by the request's client address; a 429 also sets `Retry-After` on the response. */
  hitFrom(ctx: Context): void {
    try {
      this.hit(ctx.ip);
    } catch (error) {
      if (error instanceof AppError) ctx.set('Retry-After', String(error.extra?.retryAfterSeconds ?? 60));
      throw error;
    }
  }

  /** Drops finished windows now and then, so the map does not grow with every address ever seen. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}

/**
 * Counts each `method path` request (exact paths) against `limiter`, keyed on
 * the client address, before anything else runs: a 429 `rate_limited`
 * problem with `Retry-After`, whether or not the request would have been
 * authorised (so guessing at credentials is slowed too).
 */
export function limitRequests(limiter: RateLimiter, routes: Array<{ method: string; path: string }>): Middleware {
  const keys = new Set(routes.map((r) => `${r.method.toUpperCase()} ${r.path}`));
  return async (ctx, next) => {
    if (keys.has(`${ctx.method} ${ctx.path}`)) limiter.hitFrom(ctx);
    await next();
  };
}
