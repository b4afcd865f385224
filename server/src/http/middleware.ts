import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Middleware } from 'koa';
import getRawBody from 'raw-body';
import { AppError, validationFailed } from '../errors.js';
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

/** PostgreSQL's errors for text it cannot store: 22021 (NUL byte), 22P05 (untranslatable \u0000). */
const UNSTORABLE_TEXT = new Set(['22021', '22P05']);

/** Whether a parsed JSON value or query holds a NUL character anywhere (PostgreSQL text cannot hold one). */
function holdsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 64 || value === null || typeof value !== 'object') return false;
  for (const [key, item] of Object.entries(value)) if (key.includes('\u0000') || holdsNul(item, depth + 1)) return true;
  return false;
}

/**
 * After the body parser: a query or JSON body with a NUL character is refused
 * up front (422 on the whole request) rather than failing in the database.
 */
export function rejectNulCharacters(): Middleware<AppState> {
  return async (ctx, next) => {
    const where = holdsNul(ctx.query) ? 'query' : holdsNul((ctx.request as { body?: unknown }).body) ? 'body' : null;
    if (where) throw validationFailed([{ path: where, message: 'Text may not contain NUL characters' }]);
    await next();
  };
}

/**
 * For Twilio's form-encoded webhooks: reads the body, 64 KiB at most, as text
 * into `ctx.request.rawBody` and parses nothing: each route parses that text
 * once, as Twilio signed it (`parseWebhookForm`), and checks its signature. A
 * body of another type is not read, and its signature check then fails.
 */
export function webhookFormBody(): Middleware {
  return async (ctx, next) => {
    if (ctx.request.is('application/x-www-form-urlencoded')) {
      (ctx.request as { rawBody?: string }).rawBody = await getRawBody(ctx.req, { length: ctx.request.length, limit: '64kb', encoding: 'utf-8' });
    }
    await next();
  };
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
      if (ctx.status === 404 && ctx.body == null) {
        sendProblem(ctx, new AppError(404, 'not_found', 'Not found', 'No such resource'));
      } else if ((ctx.status === 405 || ctx.status === 501) && ctx.body == null) {
        // The router's answer for a method a path does not have (501 for one it has never heard of, e.g. TRACE):
        // both are the client's mistake, so 405 with the Allow header the router set.
        sendProblem(ctx, new AppError(405, 'method_not_allowed', 'Method not allowed', `${ctx.method} is not allowed here`));
      }
    } catch (raw) {
      const error = raw as { status?: number; expose?: boolean; type?: string; message?: string };
      if (raw instanceof AppError) {
        sendProblem(ctx, raw);
      } else if (error.status === 413 || error.type === 'entity.too.large') {
        sendProblem(ctx, new AppError(413, 'payload_too_large', 'Payload too large', 'The request body is too large'));
      } else if (error.status === 400 && /forbidden prototype property/.test(error.message ?? '')) {
        // co-body refuses __proto__ and constructor.prototype keys outright (no prototype pollution).
        sendProblem(ctx, new AppError(400, 'invalid_json', 'Bad request', 'The request body has a forbidden key (__proto__ or constructor.prototype)'));
      } else if (error.status === 400 && (error.type === 'entity.parse.failed' || /JSON/i.test(error.message ?? ''))) {
        sendProblem(ctx, new AppError(400, 'invalid_json', 'Bad request', 'The request body is not valid JSON'));
      } else if (error.status === 415) {
        sendProblem(ctx, new AppError(415, 'unsupported_media_type', 'Unsupported media type', 'Send the body as application/json'));
      } else if (error.expose && typeof error.status === 'number' && error.status >= 400 && error.status < 500) {
        // Any other client error raised by Koa or a library (an undecodable path, a bad Range, a body that will not
        // decode): its status, as a problem, never its internals.
        const title = STATUS_CODES[error.status] ?? 'Bad Request';
        sendProblem(ctx, new AppError(error.status, title.toLowerCase().replace(/[^a-z]+/g, '_'), title, 'The request could not be understood'));
      } else if (UNSTORABLE_TEXT.has(String((raw as { code?: unknown }).code))) {
        // Text PostgreSQL cannot store (a NUL character) that got past validation, e.g. in a webhook's form.
        sendProblem(ctx, new AppError(400, 'invalid_text', 'Bad request', 'Text may not contain NUL characters'));
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

/**
 * For the HTTP server's `clientError` event: Node's parser refuses some
 * requests before Koa sees them (a request line or headers over 16 KiB, bytes
 * that are not HTTP); those are answered as problem+json too, then closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const title = STATUS_CODES[status]!;
  const body = JSON.stringify({ type: 'about:blank', title, status, code: title.toLowerCase().replace(/[^a-z]+/g, '_') });
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
  );
}

