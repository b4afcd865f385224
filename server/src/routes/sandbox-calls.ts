import type { PassThrough } from 'node:stream';
import { toE164 } from '@carecomms/core/phone';
import { AppError, conflict, notFound, unauthorized, validationFailed } from '../errors.js';
import { defineRoute, parseOrThrow } from '../http/route.js';
import { z } from '../http/openapi.js';
import { openEventStream } from '../http/sse.js';
import { Problem } from '../http/schemas.js';
import { SandboxCallError, type SandboxPhoneCall, type SandboxVoiceProvider } from '../providers/voice-sandbox.js';
import { streamSeat, type SignallingHub } from '../realtime/signalling.js';
import { callEnded } from './calls.js';
import type { RouteContext } from './context.js';

const BEARER = /^Bearer\s+(\S+)$/i;
const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number like +61491570006');

const PhoneCall = z
  .object({
    id: z.uuid(),
    from: z.string(),
    clinicName: z.string().nullable(),
    state: z.enum(['ringing', 'in-progress', 'ended']),
    onHold: z.boolean(),
    recording: z.boolean(),
    outcome: z.string().nullable(),
    answeredAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    durationSeconds: z.number().int().nullable(),
  })
  .openapi('SandboxPhoneCall');

const SignalIn = z.object({ type: z.enum(['offer', 'answer', 'candidate', 'mute']), data: z.unknown().optional() });

function phoneError(error: unknown): never {
  if (!(error instanceof SandboxCallError)) throw error;
  switch (error.reason) {
    case 'not_found':
      throw notFound('Call');
    case 'ended':
      throw callEnded();
    case 'not_ringing':
      throw conflict('call_not_ringing', 'The call has already been answered');
    default:
      throw conflict('call_not_in_progress', 'The call is not in progress');
  }
}

/**
 * The patient phone simulator's side of sandbox calls: an event stream of the
 * phone's calls, Answer / Decline / Hang up, and the phone's signal seat for
 * the call's WebRTC audio. Sandbox only, unauthenticated like the rest of the
 * sandbox API (fictional numbers, demos and tests); a seat needs the key its
 * Answer returned.
 */
export function registerSandboxCallRoutes(rc: RouteContext, provider: SandboxVoiceProvider, signalling: SignallingHub, streams: Set<PassThrough>): void {
  const { router, registry } = rc;
  const params = z.object({ id: z.uuid({ error: 'must be a UUID' }) });

  registry.registerPath({
    method: 'get',
    path: '/sandbox/api/calls/events',
    summary: 'Sandbox: Server-Sent Events `call` (ringing, answered, on hold, ended) for one phone; calls in progress are sent on connect',
    tags: ['sandbox'],
    request: { query: z.object({ phone: e164 }) },
    responses: { 200: { description: 'An event stream of SandboxPhoneCall', content: { 'text/event-stream': { schema: z.string() } } } },
  });
  router.get('/sandbox/api/calls/events', async (ctx) => {
    const phone = typeof ctx.query.phone === 'string' ? toE164(ctx.query.phone) : null;
    if (!phone) throw validationFailed([{ path: 'query.phone', message: 'must be an E.164 number like +61491570006' }]);
    const { stream, onClose } = openEventStream(ctx, { retryMs: 2000, streams });
    const write = (call: SandboxPhoneCall) => stream.write(`event: call\ndata: ${JSON.stringify(call)}\n\n`);
    const unsubscribe = provider.subscribe(phone, write);
    onClose(unsubscribe);
    for (const call of provider.active(phone)) write(call);
  });

  const action = (name: 'answer' | 'decline' | 'hangup', summary: string, run: (id: string, phone: string) => unknown) =>
    defineRoute(
      router,
      registry,
      {
        method: 'post',
        path: `/sandbox/api/calls/:id/${name}`,
        summary,
        tags: ['sandbox'],
        auth: 'none',
        params,
        body: z.object({ phone: e164 }),
        responses: {
          200: {
            description: name === 'answer' ? 'The call, and the key to the phone’s signal seat' : 'The call',
            content: {
              'application/json': { schema: name === 'answer' ? z.object({ call: PhoneCall, seatKey: z.string() }) : z.object({ call: PhoneCall }) },
            },
          },
        },
        errors: [404, 409, 410, 422],
      },
      async () => undefined,
      async (ctx, input) => {
        try {
          ctx.body = run(input.params.id, input.body.phone);
        } catch (error) {
          phoneError(error);
        }
      },
    );
  action('answer', 'Sandbox: the phone answers a ringing call (reported as Twilio reports an answered participant)', (id, phone) => provider.answer(id, phone));
  action('decline', 'Sandbox: the phone declines a ringing call (reported busy)', (id, phone) => ({ call: provider.decline(id, phone) }));
  action('hangup', 'Sandbox: the phone hangs up', (id, phone) => ({ call: provider.hangUp(id, phone) }));

  const seatFor = (ctx: { get(name: string): string; params: Record<string, string> }) => {
    const key = BEARER.exec(ctx.get('Authorization'))?.[1];
    if (!key) throw unauthorized('The seat key from Answer is required');
    const seat = provider.patientSeat(ctx.params.id ?? '', key);
    if (!seat) throw new AppError(410, 'call_ended', 'Gone', 'This call is not in progress on this phone');
    return seat;
  };
  registry.registerPath({
    method: 'get',
    path: '/sandbox/api/calls/{id}/signal',
    summary: 'Sandbox: the phone’s leg of an answered call (Server-Sent Events signalling; Bearer seat key from Answer)',
    tags: ['sandbox'],
    request: { params },
    responses: {
      200: { description: 'Signal messages: peer-joined, peer-left, replaced, offer, answer, candidate, hold, resume, mute, bye', content: { 'text/event-stream': { schema: z.string() } } },
      401: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
      410: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
    },
  });
  router.get('/sandbox/api/calls/:id/signal', async (ctx) => {
    const { room } = seatFor(ctx);
    const id = ctx.params.id!;
    streamSeat(ctx, signalling, room, 'patient', { streams, onLeave: () => provider.seat(id, 'patient', false) });
    provider.seat(id, 'patient', true);
  });
  registry.registerPath({
    method: 'post',
    path: '/sandbox/api/calls/{id}/signal',
    summary: 'Sandbox: the phone sends a WebRTC answer, ICE candidate or mute hint to the clinic’s browser',
    tags: ['sandbox'],
    request: { params, body: { content: { 'application/json': { schema: SignalIn } } } },
    responses: {
      202: { description: 'Relayed', content: { 'application/json': { schema: z.object({ delivered: z.boolean() }) } } },
      401: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
      410: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
    },
  });
  router.post('/sandbox/api/calls/:id/signal', async (ctx) => {
    const { room } = seatFor(ctx);
    const message = parseOrThrow(SignalIn, (ctx.request as { body?: unknown }).body ?? {}, 'body');
    ctx.status = 202;
    ctx.body = { delivered: signalling.send(room, { type: message.type, from: 'patient', data: message.data }) };
  });
}
