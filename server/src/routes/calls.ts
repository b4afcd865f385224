import { randomBytes } from 'node:crypto';
import type { PassThrough } from 'node:stream';
import { STATUSES } from '@carecomms/core';
import type { CallTokens } from '../auth/call-tokens.js';
import { AppError, notFound, unauthorized } from '../errors.js';
import { defineRoute, parseOrThrow, type AppContext } from '../http/route.js';
import { Correspondence, Problem } from '../http/schemas.js';
import { z } from '../http/openapi.js';
import { auditActor } from '../http/state.js';
import type { AuditActor } from '../repositories/audit.js';
import type { PatientKey } from '../repositories/patients.js';
import type { SandboxVoiceProvider } from '../providers/voice-sandbox.js';
import { streamSeat, type SignallingHub } from '../realtime/signalling.js';
import { MAX_NOTES_LENGTH, type CallService } from '../services/calls.js';
import { practitionerOf } from './browser.js';
import type { RouteContext } from './context.js';

export const CallView = z
  .object({
    id: z.uuid(),
    correspondenceId: z.uuid(),
    patientId: z.uuid(),
    provider: z.enum(['twilio', 'sandbox']),
    status: z.enum(STATUSES).openapi({ description: 'initiated, ringing, in-progress, completed, busy, no-answer, failed or canceled' }),
    onHold: z.boolean(),
    recording: z.boolean().openapi({ description: 'The call is recorded (the tenant records calls)' }),
    answeredAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    durationSeconds: z.number().int().nullable().openapi({ description: 'From answer to hang-up, once the call is over' }),
    errorCode: z.string().nullable(),
  })
  .openapi('Call');

export const StartedCall = z
  .object({
    id: z.uuid(),
    correspondenceId: z.uuid(),
    token: z.string().openapi({
      description: 'Twilio: a Voice access token (1 h, outgoing grant for the TwiML app) for @twilio/voice-sdk. Sandbox: a token for the call’s signal endpoint.',
    }),
    identity: z.string().openapi({ description: 'The browser’s opaque identity for this call' }),
    provider: z.enum(['twilio', 'sandbox']),
    expiresAt: z.string(),
    call: CallView,
    entry: Correspondence,
  })
  .openapi('StartedCall');

const RecordingLink = z
  .object({
    url: z.string().openapi({ description: 'Relative to the API’s origin; streams the recording (range requests) until expiresAt' }),
    expiresAt: z.string(),
  })
  .openapi('RecordingLink');

const SignalIn = z.object({
  type: z.enum(['offer', 'answer', 'candidate', 'mute']),
  data: z.unknown().optional(),
});

const BEARER = /^Bearer\s+(\S+)$/i;

export const callEnded = () => new AppError(410, 'call_ended', 'Gone', 'This call has ended');

export interface CallRouteDeps {
  calls: CallService;
  signalling: SignallingHub;
  tokens: CallTokens;
  /** The sandbox provider, when it is the live one (signal endpoints exist only then). */
  sandbox: SandboxVoiceProvider | null;
  /** Open streams, ended on shutdown. */
  streams: Set<PassThrough>;
}

/**
 * Calls for the practitioner: start, state, hold, resume, end, notes, the
 * recording; and the sandbox's signal endpoint for the browser's leg.
 */
export function registerCallRoutes(rc: RouteContext, deps: CallRouteDeps): void {
  const { router, registry, authenticate } = rc;
  const { calls, signalling, tokens, sandbox, streams } = deps;
  const params = z.object({ id: z.string() });
  const callResponse = { 200: { description: 'The call', content: { 'application/json': { schema: CallView } } } };

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/api/v1/patients/:id/calls',
      summary: 'Start a call: the voice entry (initiated) and the browser’s Voice token. The patient’s phone rings once the browser connects.',
      tags: ['calls'],
      auth: 'session',
      params,
      responses: { 201: { description: 'The call', content: { 'application/json': { schema: StartedCall } } } },
      errors: [401, 404, 409, 422, 503],
    },
    authenticate,
    async (ctx, { params: { id } }) => {
      ctx.status = 201;
      ctx.body = await calls.start(practitionerOf(ctx), id, auditActor(ctx.state, ctx.ip));
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/api/v1/calls/:id',
      summary: 'A call’s current state (also sent as call.updated events)',
      tags: ['calls'],
      auth: 'session',
      params,
      responses: callResponse,
      errors: [401, 404],
    },
    authenticate,
    async (ctx, { params: { id } }) => {
      ctx.body = await calls.get(practitionerOf(ctx), id, auditActor(ctx.state, ctx.ip));
    },
  );

  for (const action of ['hold', 'resume'] as const) {
    defineRoute(
      router,
      registry,
      {
        method: 'post',
        path: `/api/v1/calls/:id/${action}`,
        summary: action === 'hold' ? 'Put the patient on hold (they hear hold music)' : 'Take the patient off hold',
        tags: ['calls'],
        auth: 'session',
        params,
        responses: callResponse,
        errors: [401, 404, 409, 502],
      },
      authenticate,
      async (ctx, { params: { id } }) => {
        ctx.body = await calls.setHold(practitionerOf(ctx), id, action === 'hold', auditActor(ctx.state, ctx.ip));
      },
    );
  }

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/api/v1/calls/:id/end',
      summary: 'End the call for both sides (ending an ended call is harmless)',
      tags: ['calls'],
      auth: 'session',
      params,
      responses: callResponse,
      errors: [401, 404],
    },
    authenticate,
    async (ctx, { params: { id } }) => {
      ctx.body = await calls.end(practitionerOf(ctx), id, auditActor(ctx.state, ctx.ip));
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'patch',
      path: '/api/v1/calls/:id',
      summary: 'Call notes, during or after the call (an empty string clears them)',
      tags: ['calls'],
      auth: 'session',
      params,
      body: z.object({
        notes: z.string().max(MAX_NOTES_LENGTH, `must be at most ${MAX_NOTES_LENGTH} characters`).nullable(),
      }),
      responses: { 200: { description: 'The voice entry', content: { 'application/json': { schema: Correspondence } } } },
      errors: [401, 404, 422],
    },
    authenticate,
    async (ctx, { params: { id }, body }) => {
      ctx.body = await calls.updateNotes(practitionerOf(ctx), id, body.notes, auditActor(ctx.state, ctx.ip));
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/api/v1/calls/:id/recording/link',
      summary: 'A short-lived URL to stream the call’s recording from (an <audio> element cannot send a bearer token)',
      tags: ['calls'],
      auth: 'session',
      params,
      responses: { 201: { description: 'The link', content: { 'application/json': { schema: RecordingLink } } } },
      errors: [401, 404],
    },
    authenticate,
    async (ctx, { params: { id } }) => {
      ctx.status = 201;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = await calls.recordingLink(practitionerOf(ctx), id);
    },
  );

  registry.registerPath({
    method: 'get',
    path: '/api/v1/calls/{id}/recording',
    summary: 'Stream the call’s recording (range requests; each playback audited). Bearer session, or the `access` query of a recording link.',
    tags: ['calls'],
    security: [{ session: [] }, {}],
    request: { params, query: z.object({ access: z.string().optional() }), headers: z.object({ range: z.string().optional() }) },
    responses: {
      200: { description: 'The recording', content: { 'audio/mpeg': { schema: z.string() }, 'audio/wav': { schema: z.string() } } },
      206: { description: 'Part of the recording' },
      401: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
      404: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
      416: { description: 'Range not satisfiable' },
      502: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
    },
  });
  router.get('/api/v1/calls/:id/recording', async (ctx) => {
    const appCtx = ctx as unknown as AppContext;
    const access = typeof ctx.query.access === 'string' ? ctx.query.access : null;
    let key: PatientKey;
    let actor: AuditActor;
    if (access) {
      const claims = await tokens.verifyRecording(access);
      if (!claims || claims.callId !== ctx.params.id) throw unauthorized('The recording link is not valid');
      key = { tenantId: claims.tenantId, practitionerId: claims.practitionerId };
      actor = { tenantId: claims.tenantId, type: 'practitioner', id: claims.practitionerId, requestId: appCtx.state.requestId, ip: ctx.ip };
    } else {
      await authenticate(appCtx, 'session');
      key = practitionerOf(appCtx);
      actor = auditActor(appCtx.state, ctx.ip);
    }
    const media = await calls.openRecording(key, ctx.params.id!, ctx.get('Range') || null, actor);
    ctx.status = media.status;
    ctx.set({ ...media.headers, 'Cache-Control': 'private, no-store' });
    if (media.body) {
      ctx.type = media.contentType;
      ctx.body = media.body;
    } else {
      ctx.body = null;
      ctx.status = media.status;
    }
  });

  if (sandbox) registerSignalRoutes(sandbox);

  function registerSignalRoutes(provider: SandboxVoiceProvider): void {
    const path = '/api/v1/calls/{id}/signal';
    registry.registerComponent('securitySchemes', 'callSeat', {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'Sandbox: the `token` from POST /api/v1/patients/{id}/calls.',
    });
    registry.registerPath({
      method: 'get',
      path,
      summary: 'Sandbox: the browser leg of the call (Server-Sent Events signalling). Connecting dials the patient’s phone, as Twilio’s voice webhook does.',
      tags: ['calls'],
      security: [{ callSeat: [] }],
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
      summary: 'Sandbox: send a WebRTC offer, answer, ICE candidate or mute hint to the patient’s phone',
      tags: ['calls'],
      security: [{ callSeat: [] }],
      request: { params, body: { content: { 'application/json': { schema: SignalIn } } } },
      responses: {
        202: { description: 'Relayed (or not, when the phone is not connected)', content: { 'application/json': { schema: z.object({ delivered: z.boolean() }) } } },
        401: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
        404: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
        410: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
      },
    });

    const seatFor = async (ctx: AppContext) => {
      const token = BEARER.exec(ctx.get('Authorization'))?.[1];
      if (!token) throw unauthorized();
      const claims = await tokens.verifySeat(token);
      if (!claims || claims.role !== 'practitioner') throw unauthorized('Not a call token');
      const call = claims.callId === ctx.params.id ? await calls.findForSeat(claims.tenantId, claims.callId) : undefined;
      if (!call || call.identity !== claims.identity) throw notFound('Call');
      return { claims, call };
    };

    router.get('/api/v1/calls/:id/signal', async (ctx) => {
      const appCtx = ctx as unknown as AppContext;
      const { claims, call } = await seatFor(appCtx);
      const answer = await calls.connectBrowserLeg(
        { callId: call.id, identity: claims.identity, callSid: `CA${randomBytes(16).toString('hex')}` },
        { type: 'system', id: 'sandbox', requestId: appCtx.state.requestId, ip: ctx.ip },
      );
      if (answer.action === 'reject') throw callEnded();
      streamSeat(ctx, signalling, call.conference_name, 'practitioner', { streams, onLeave: () => provider.seat(call.id, 'practitioner', false) });
      provider.seat(call.id, 'practitioner', true);
    });

    router.post('/api/v1/calls/:id/signal', async (ctx) => {
      const { call } = await seatFor(ctx as unknown as AppContext);
      const message = parseOrThrow(SignalIn, (ctx.request as { body?: unknown }).body ?? {}, 'body');
      const delivered = signalling.send(call.conference_name, { type: message.type, from: 'practitioner', data: message.data });
      ctx.status = 202;
      ctx.body = { delivered };
    });
  }
}
