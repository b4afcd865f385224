import type { Context } from 'koa';
import { AppError } from '../errors.js';
import { defineRoute } from '../http/route.js';
import { z } from '../http/openapi.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { AppState } from '../http/state.js';
import type { VideoVisitService } from '../services/video-visits.js';
import type { RouteContext } from './context.js';

export const PatientSeat = z
  .object({
    visitId: z.uuid(),
    token: z.string().openapi({ description: 'Twilio: a Video access token for the patient’s seat. Sandbox: a seat token for the signal endpoints.' }),
    provider: z.enum(['twilio', 'sandbox']),
    roomName: z.string(),
    expiresAt: z.string(),
    clinicName: z.string(),
    practitionerName: z.string().nullable(),
  })
  .openapi('PatientSeat');

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const PAGE_STYLE = `
  :root { color-scheme: light dark; --care-font-size: 1rem; }
  html, body { margin: 0; min-height: 100%; }
  body {
    min-height: 100dvh;
    display: grid;
    font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
    background: light-dark(#f4f6f9, #0d1117);
    color: light-dark(#1b2431, #e6e9ef);
  }
  main { display: grid; min-height: 100dvh; }
  care-video-room { display: block; min-height: 100dvh; }
  .notice { align-self: center; justify-self: center; max-width: 28rem; padding: 2rem 1.5rem; text-align: center; line-height: 1.5; }
  .notice h1 { font-size: 1.375rem; margin: 0 0 0.75rem; }
  .notice p { margin: 0 0 0.75rem; color: light-dark(#5a6576, #a3acba); }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="robots" content="noindex, nofollow">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style>
${body.includes('<care-video-room') ? '<script type="module" src="/cdn/carecomms.js"></script>' : ''}
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

const notice = (heading: string, ...lines: string[]) =>
  `<section class="notice" role="alert"><h1>${escapeHtml(heading)}</h1>${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}</section>`;

/**
 * The patient's side of a visit: `GET /join/:token` (the page hosting
 * `<care-video-room>`, or a friendly 404 / 410 page) and
 * `POST /api/v1/join/:token` (the seat). Both count against the join rate limit.
 */
export function registerJoinRoutes(rc: RouteContext, deps: { video: VideoVisitService; limiter: RateLimiter }): void {
  const { router, registry } = rc;
  const { video, limiter } = deps;

  /** Counts an attempt; a 429 carries Retry-After. */
  const countAttempt = (ctx: Context) => limiter.hitFrom(ctx);

  registry.registerPath({
    method: 'get',
    path: '/join/{token}',
    summary: 'The patient’s video visit page (404 for a forged link, 410 once the visit is over, 429 when rate-limited)',
    tags: ['video'],
    request: { params: z.object({ token: z.string() }) },
    responses: {
      200: { description: 'The page', content: { 'text/html': { schema: z.string() } } },
      404: { description: 'Unknown link', content: { 'text/html': { schema: z.string() } } },
      410: { description: 'Ended or expired', content: { 'text/html': { schema: z.string() } } },
      429: { description: 'Too many attempts', content: { 'text/html': { schema: z.string() } } },
    },
  });
  router.get('/join/:token', async (ctx) => {
    // The page CSP (letting twilio-video reach Twilio when it is the provider) comes from securityHeaders.
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'text/html';
    try {
      countAttempt(ctx);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      ctx.status = 429;
      ctx.body = page('Please wait', notice('Please wait a moment', 'This link was tried too many times in a short while.', 'Wait a minute, then open it again.'));
      return;
    }
    const resolved = await video.resolveJoinToken(ctx.params.token!);
    if (resolved.state === 'not_found') {
      ctx.status = 404;
      ctx.body = page('Link not recognised', notice('This link is not recognised', 'Check that you opened the whole link from your message.', 'If it still does not work, contact your clinic for a new link.'));
      return;
    }
    if (resolved.state === 'gone') {
      ctx.status = 410;
      ctx.body = page('Video visit ended', notice('This video visit has ended', 'The link is no longer valid: the visit is over or the link has expired.', 'If you still need to speak with your clinician, contact your clinic.'));
      return;
    }
    ctx.status = 200;
    ctx.body = page('Video visit', `<care-video-room join-token="${escapeHtml(ctx.params.token!)}"></care-video-room>
<noscript>${notice('JavaScript is needed', 'Turn on JavaScript in your browser to join the video visit.')}</noscript>`);
  });

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/api/v1/join/:token',
      summary: 'Patient: take the patient seat of the visit a join link opens (a second device replaces the first)',
      tags: ['video'],
      auth: 'none',
      params: z.object({ token: z.string() }),
      responses: { 200: { description: 'The seat', content: { 'application/json': { schema: PatientSeat } } } },
      errors: [404, 410, 429],
    },
    async () => undefined,
    async (ctx, { params }) => {
      countAttempt(ctx);
      const state = (ctx as Context & { state: AppState }).state;
      ctx.body = await video.join(params.token, { requestId: state.requestId, ip: ctx.ip });
    },
  );
}
