import type { Context } from 'koa';
import { AppError } from '../errors.js';
import { defineRoute } from '../http/route.js';
import { z } from '../http/openapi.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { AppState } from '../http/state.js';
import { joinTokenWithin, type VideoVisitService } from '../services/video-visits.js';
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

/**
 * The page's language: the same two as `<care-video-room>` (English, Spanish),
 * told to the room in its `locale` attribute so that page and room agree.
 */
type PageLanguage = 'en' | 'es';

interface Notice {
  heading: string;
  lines: string[];
}

/** A notice that is the whole page, with its `<title>`. */
interface NoticePage extends Notice {
  title: string;
}

/** Every word the join page says, per language; kept in step with the room's own Spanish (packages/elements). */
const TEXT: Record<PageLanguage, { room: string; noscript: Notice; limited: NoticePage; unknown: NoticePage; ended: NoticePage }> = {
  en: {
    room: 'Video visit',
    noscript: { heading: 'JavaScript is needed', lines: ['Turn on JavaScript in your browser to join the video visit.'] },
    limited: { title: 'Please wait', heading: 'Please wait a moment', lines: ['This link was tried too many times in a short while.', 'Wait a minute, then open it again.'] },
    unknown: {
      title: 'Link not recognised',
      heading: 'This link is not recognised',
      lines: ['Check that you opened the whole link from your message.', 'If it still does not work, contact your clinic for a new link.'],
    },
    ended: {
      title: 'Video visit ended',
      heading: 'This video visit has ended',
      lines: ['The link is no longer valid: the visit is over or the link has expired.', 'If you still need to speak with your clinician, contact your clinic.'],
    },
  },
  es: {
    room: 'Videoconsulta',
    noscript: { heading: 'Se necesita JavaScript', lines: ['Active JavaScript en su navegador para unirse a la videoconsulta.'] },
    limited: {
      title: 'Espere un momento',
      heading: 'Espere un momento, por favor',
      lines: ['Se ha intentado abrir este enlace demasiadas veces en poco tiempo.', 'Espere un minuto y vuelva a abrirlo.'],
    },
    unknown: {
      title: 'Enlace no reconocido',
      heading: 'Este enlace no se reconoce',
      lines: ['Compruebe que abrió el enlace completo de su mensaje.', 'Si sigue sin funcionar, pida un enlace nuevo a su clínica.'],
    },
    ended: {
      title: 'Videoconsulta terminada',
      heading: 'Esta videoconsulta ha terminado',
      lines: [
        'El enlace ya no es válido: la consulta terminó o el enlace caducó.',
        'Si aún necesita hablar con su profesional sanitario, contacte con su clínica.',
      ],
    },
  },
};

/** Spanish when the browser prefers it to English (q-values honoured), otherwise English. */
function pageLanguage(ctx: Context): PageLanguage {
  return ctx.acceptsLanguages('en', 'es') === 'es' ? 'es' : 'en';
}

function page(lang: PageLanguage, title: string, body: string): string {
  return `<!doctype html>
<html lang="${lang}">
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

const notice = ({ heading, lines }: Notice) =>
  `<section class="notice" role="alert"><h1>${escapeHtml(heading)}</h1>${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}</section>`;

/** A notice page: its status, `<title>` and text in the page's language. */
function noticePage(ctx: Context, lang: PageLanguage, status: number, text: NoticePage): void {
  ctx.status = status;
  ctx.body = page(lang, text.title, notice(text));
}

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
  /** Headers every join page answers with, whichever language or state. */
  const pageHeaders = (ctx: Context): PageLanguage => {
    // The page CSP (letting twilio-video reach Twilio when it is the provider) comes from securityHeaders.
    ctx.set('Cache-Control', 'no-store');
    ctx.vary('Accept-Language');
    ctx.type = 'text/html';
    return pageLanguage(ctx);
  };

  registry.registerPath({
    method: 'get',
    path: '/join',
    summary: 'A join link cut short after `/join/` (an SMS that broke it): the same friendly 404 page as an unknown link',
    tags: ['video'],
    responses: { 404: { description: 'No link', content: { 'text/html': { schema: z.string() } } } },
  });
  router.get('/join', async (ctx) => {
    const lang = pageHeaders(ctx);
    noticePage(ctx, lang, 404, TEXT[lang].unknown);
  });

  router.get('/join/:token', async (ctx) => {
    // "…/join/<token>." or "…/join/<token>)," as a messaging app linked it: the link itself, without what followed.
    const trimmed = joinTokenWithin(ctx.params.token!);
    if (trimmed) {
      ctx.redirect(`/join/${trimmed}${ctx.querystring ? `?${ctx.querystring}` : ''}`);
      return;
    }
    const lang = pageHeaders(ctx);
    const text = TEXT[lang];
    try {
      countAttempt(ctx);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      noticePage(ctx, lang, 429, text.limited);
      return;
    }
    const resolved = await video.resolveJoinToken(ctx.params.token!);
    if (resolved.state === 'not_found') {
      noticePage(ctx, lang, 404, text.unknown);
      return;
    }
    if (resolved.state === 'gone') {
      noticePage(ctx, lang, 410, text.ended);
      return;
    }
    ctx.status = 200;
    ctx.body = page(
      lang,
      text.room,
      `<care-video-room join-token="${escapeHtml(ctx.params.token!)}" locale="${lang}"></care-video-room>
<noscript>${notice(text.noscript)}</noscript>`,
    );
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
