import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import { AppError } from '../errors.js';
import { isDatabaseUnavailable } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { AppState } from './state.js';

const PROBLEM_BASE = 'https://carecomms.dev/problems/';

function sendProblem(ctx: Parameters<Middleware>[0], error: AppError): void {
  ctx.status = error.status;
  ctx.type = 'application/problem+json';
  ctx.body = {
    type: PROBLEM_BASE + error.code.replace(/_/g, '-'),
    title: error.title,
    status: error.status,
    ...(error.detail ? { detail: error.detail } : {}),
    code: error.code,
    ...error.extra,
  };
  if (error.status === 401) ctx.set('WWW-Authenticate', 'Bearer realm="carecomms"');
}

/**
 * First in the chain: gives each request an id, logs one line per request
 * (route pattern, never the raw URL: it may hold a join token or a search term),
 * and turns every error into problem+json. Unknown errors become a bare 500.
 */
export function requestHandling(logger: Logger): Middleware<AppState> {
  return async (ctx, next) => {
    const started = performance.now();
    const requestId = randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        sendProblem(ctx, new AppError(404, 'not_found', 'Not found', 'No such resource'));
      }
    } catch (raw) {
      const error = raw as { status?: number; expose?: boolean; type?: string; message?: string };
      if (raw instanceof AppError) {
        sendProblem(ctx, raw);
      } else if (error.status === 413 || error.type === 'entity.too.large') {
        sendProblem(ctx, new AppError(413, 'payload_too_large', 'Payload too large', 'The request body is too large'));
      } else if (error.status === 400 && (error.type === 'entity.parse.failed' || /JSON/i.test(error.message ?? ''))) {
        sendProblem(ctx, new AppError(400, 'invalid_json', 'Bad request', 'The request body is not valid JSON'));
      } else if (error.status === 415) {
        sendProblem(ctx, new AppError(415, 'unsupported_media_type', 'Unsupported media type', 'Send the body as application/json'));
      } else if (isDatabaseUnavailable(raw)) {
        logger.error({ requestId, err: { message: error.message } }, 'database unavailable');
        sendProblem(ctx, new AppError(503, 'database_unavailable', 'Service unavailable', 'The database is not reachable; try again shortly'));
        ctx.set('Retry-After', '2');
      } else {
        logger.error({ requestId, err: raw }, 'unhandled error');
        ctx.status = 500;
        ctx.type = 'application/problem+json';
        ctx.body = { type: 'about:blank', title: 'Internal server error', status: 500, code: 'internal_error', requestId };
      }
    } finally {
      logger.info(
        {
          requestId,
          method: ctx.method,
          route: (ctx as { _matchedRoute?: string })._matchedRoute ?? '(unmatched)',
          status: ctx.status,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
    }
  };
}
