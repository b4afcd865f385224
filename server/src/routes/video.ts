import type { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import type { SeatTokens } from '../auth/seat-tokens.js';
import { forbidden, notFound, unauthorized } from '../errors.js';
import { defineRoute, parseOrThrow, type AppContext } from '../http/route.js';
import { Correspondence, Problem } from '../http/schemas.js';
import { z } from '../http/openapi.js';
import { webhookFormBody } from '../http/middleware.js';
import { auditActor, type AppState } from '../http/state.js';
import { isValidTwilioSignature, parseWebhookForm, type WebhookParams } from '../providers/twilio-signature.js';
import { streamSeat, type RtcRole, type SignallingHub } from '../realtime/signalling.js';
import type { VideoVisitRow } from '../repositories/video-visits.js';
import { visitEnded, type VideoVisitService } from '../services/video-visits.js';
import type { Logger } from '../logger.js';
import { practitionerOf } from './browser.js';
import type { RouteContext } from './context.js';

export const VideoVisit = z
  .object({
    id: z.uuid(),
    correspondenceId: z.uuid(),
    token: z.string().openapi({ description: 'Twilio: a Video access token for this room only (≤ 2 h). Sandbox: a seat token for the signal endpoints.' }),
    joinUrl: z.url().openapi({ description: 'The patient’s link; opens one patient seat until the visit ends or expires.' }),
    expiresAt: z.string(),
    provider: z.enum(['twilio', 'sandbox']),
    roomName: z.string().openapi({ description: 'Opaque room name' }),
  })
  .openapi('VideoVisit');

const SignalIn = z.object({
  type: z.enum(['offer', 'answer', 'candidate', 'hold', 'resume', 'mute']),
  data: z.unknown().optional(),
});

const BEARER = /^Bearer\s+(\S+)$/i;

const formBody = webhookFormBody();

const field = (params: WebhookParams, name: string): string | null => {
  const value = params[name];
  return typeof value === 'string' && value !== '' ? value : null;
};

export interface VideoRouteDeps {
  video: VideoVisitService;
  signalling: SignallingHub;
  seatTokens: SeatTokens;
  /** Open streams, ended on shutdown. */
  streams: Set<PassThrough>;
  logger: Logger;
}

/**
 * Video visits for the practitioner (start, send link, end), the sandbox's
 * signalling endpoints for both seats, and Twilio's room status callback.
 */
export function registerVideoRoutes(rc: RouteContext, deps: VideoRouteDeps): void {
  const { router, registry, authenticate, services, config } = rc;
  const { video, signalling, seatTokens, streams, logger } = deps;
  const params = z.object({ id: z.string() });

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/api/v1/patients/:id/video-visits',
      summary: 'Start a video visit: a two-seat room, the practitioner’s token (≤ 2 h) and a patient join link',
      tags: ['video'],
      auth: 'session',
      params,
      responses: { 201: { description: 'The visit', content: { 'application/json': { schema: VideoVisit } } } },
      errors: [401, 404, 502],
    },
    authenticate,
    async (ctx, { params: { id } }) => {
      ctx.status = 201;
      ctx.body = await video.start(practitionerOf(ctx), id, auditActor(ctx.state, ctx.ip));
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/api/v1/video-visits/:id/send-link',
      summary: 'Text the patient a join link through the SMS pipeline (opt-out and no-phone rules apply)',
      tags: ['video'],
      auth: 'session',
      params,
      responses: { 202: { description: 'The queued SMS', content: { 'application/json': { schema: Correspondence } } } },
      errors: [401, 404, 409, 410, 422],
    },
    authenticate,
    async (ctx, { params: { id } }) => {
      ctx.status = 202;
      ctx.body = await video.sendLink(practitionerOf(ctx), id, auditActor(ctx.state, ctx.ip));
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/api/v1/video-visits/:id/end',
      summary: 'End the visit for both sides and log its duration (idempotent)',
      tags: ['video'],
      auth: 'session',
      params,
      responses: { 200: { description: 'The completed video entry', content: { 'application/json': { schema: Correspondence } } } },
      errors: [401, 404],
    },
    authenticate,
    async (ctx, { params: { id } }) => {
      ctx.body = await video.end(practitionerOf(ctx), id, auditActor(ctx.state, ctx.ip));
    },
  );

  if (video.providerName === 'sandbox') registerSignalRoutes();
  if (config.twilio) registerVideoWebhook(rc, video, config.twilio.authToken);

  /** Who is asking for a seat: a seat token names its visit and role; a session token is the practitioner's seat if they may see the patient. */
  async function seatFor(ctx: AppContext, visitId: string): Promise<{ visit: VideoVisitRow; role: RtcRole }> {
    const token = BEARER.exec(ctx.get('Authorization'))?.[1];
    if (!token) throw unauthorized();
    const seat = await seatTokens.verify(token);
    let visit: VideoVisitRow;
    let role: RtcRole;
    if (seat) {
      const found = seat.visitId === visitId ? await video.findForSeat(seat.tenantId, visitId) : undefined;
      if (!found) throw notFound('Video visit');
      visit = found;
      role = seat.role;
    } else {
      ctx.state.caller = await services.auth.session(token);
      visit = await video.requireVisible(practitionerOf(ctx), visitId);
      role = 'practitioner';
    }
    if (!video.isOpen(visit)) throw visitEnded();
    return { visit, role };
  }

  function registerSignalRoutes(): void {
    const path = '/api/v1/video-visits/{id}/signal';
    const security: Array<Record<string, string[]>> = [{ session: [] }, { videoSeat: [] }];
    registry.registerComponent('securitySchemes', 'videoSeat', {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'Sandbox: the seat token from POST /api/v1/patients/{id}/video-visits or POST /api/v1/join/{token}.',
    });
    registry.registerPath({
      method: 'get',
      path,
      summary: 'Sandbox: this seat’s signalling stream (Server-Sent Events); a second device on the same seat replaces the first',
      tags: ['video'],
      security,
      request: { params },
      responses: {
        200: { description: 'Signal messages: peer-joined, peer-left, replaced, offer, answer, candidate, mute, bye', content: { 'text/event-stream': { schema: z.string() } } },
        401: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
        404: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
        410: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
      },
    });
    registry.registerPath({
      method: 'post',
      path,
      summary: 'Sandbox: send a WebRTC offer, answer, ICE candidate or hint to the other seat',
      tags: ['video'],
      security,
      request: { params, body: { content: { 'application/json': { schema: SignalIn } } } },
      responses: {
        202: { description: 'Relayed (or not, when nobody holds the other seat)', content: { 'application/json': { schema: z.object({ delivered: z.boolean() }) } } },
        401: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
        404: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
        410: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
        422: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
      },
    });

    router.get('/api/v1/video-visits/:id/signal', async (ctx) => {
      const { visit, role } = await seatFor(ctx as unknown as AppContext, ctx.params.id!);
      const participant = crypto.randomUUID();
      await video.seatEvent(visit.id, role, participant, 'participant-connected');
      streamSeat(ctx, signalling, visit.room_name, role, {
        streams,
        onLeave: () => {
          video
            .seatEvent(visit.id, role, participant, 'participant-disconnected')
            .catch((error: Error) => logger.warn({ visitId: visit.id, err: { message: error.message } }, 'video seat event failed'));
        },
      });
    });

    router.post('/api/v1/video-visits/:id/signal', async (ctx) => {
      const { visit, role } = await seatFor(ctx as unknown as AppContext, ctx.params.id!);
      const message = parseOrThrow(SignalIn, (ctx.request as { body?: unknown }).body ?? {}, 'body');
      const delivered = signalling.send(visit.room_name, { type: message.type, from: role, data: message.data });
      ctx.status = 202;
      ctx.body = { delivered };
    });
  }
}

/** `/webhooks/twilio/video-status`: room and participant events, signed, applied once each in any order. */
function registerVideoWebhook(rc: RouteContext, video: VideoVisitService, authToken: string): void {
  const { router, registry, config } = rc;
  registry.registerPath({
    method: 'post',
    path: '/webhooks/twilio/video-status',
    summary: 'Twilio Video room status callback (signed)',
    tags: ['webhooks'],
    request: {
      headers: z.object({ 'x-twilio-signature': z.string() }),
      body: { content: { 'application/x-www-form-urlencoded': { schema: z.record(z.string(), z.string()) } } },
    },
    responses: {
      204: { description: 'Accepted' },
      403: { description: 'Bad signature', content: { 'application/problem+json': { schema: Problem } } },
    },
  });
  router.post('/webhooks/twilio/video-status', formBody, async (ctx) => {
    const raw = (ctx.request as { rawBody?: string }).rawBody ?? '';
    const params = parseWebhookForm(raw);
    if (!isValidTwilioSignature(authToken, ctx.get('X-Twilio-Signature') || undefined, config.baseUrl + ctx.originalUrl, params)) {
      throw forbidden('The X-Twilio-Signature header does not match this request');
    }
    const state = (ctx as Context & { state: AppState }).state;
    await video.applyTwilioEvent(
      {
        visitId: typeof ctx.query.ref === 'string' ? ctx.query.ref : null,
        roomSid: field(params, 'RoomSid'),
        event: field(params, 'StatusCallbackEvent') ?? '',
        participantSid: field(params, 'ParticipantSid'),
        identity: field(params, 'ParticipantIdentity'),
        timestamp: field(params, 'Timestamp'),
      },
      { type: 'webhook', id: 'twilio', requestId: state.requestId, ip: ctx.ip },
    );
    ctx.status = 204;
  });
}
