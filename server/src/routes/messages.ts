import { defineRoute } from '../http/route.js';
import { Correspondence } from '../http/schemas.js';
import { z } from '../http/openapi.js';
import { auditActor } from '../http/state.js';
import { validationFailed } from '../errors.js';
import { MAX_SMS_LENGTH } from '../services/sms.js';
import { practitionerOf } from './browser.js';
import type { RouteContext } from './context.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** `POST /api/v1/patients/:id/messages`: queue an SMS to a patient. */
export function registerMessageRoutes(rc: RouteContext): void {
  const { router, registry, authenticate, services } = rc;

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/api/v1/patients/:id/messages',
      summary: 'Send an SMS to a patient (queued; status updates arrive as correspondence.updated events). Honours Idempotency-Key.',
      tags: ['messages'],
      auth: 'session',
      params: z.object({ id: z.string() }),
      body: z.object({
        body: z
          .string()
          .max(MAX_SMS_LENGTH, `must be at most ${MAX_SMS_LENGTH} characters`)
          .refine((v) => v.trim().length > 0, 'must not be empty')
          .openapi({ example: 'Hi, this is Demo Clinic. Your results are ready.' }),
      }),
      responses: {
        202: {
          description: 'Queued (or, for a repeated Idempotency-Key, the entry the first request created)',
          content: { 'application/json': { schema: Correspondence } },
        },
      },
      errors: [401, 404, 409, 422],
    },
    authenticate,
    async (ctx, { params, body }) => {
      const idempotencyKey = ctx.get('Idempotency-Key') || null;
      if (idempotencyKey !== null && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
        throw validationFailed([{ path: 'headers.idempotency-key', message: 'must be 1–255 printable ASCII characters' }]);
      }
      const { entry, replayed } = await services.sms.send(
        practitionerOf(ctx),
        { patientId: params.id, body: body.body, idempotencyKey },
        auditActor(ctx.state, ctx.ip),
      );
      ctx.status = 202;
      if (replayed) ctx.set('Idempotent-Replayed', 'true');
      ctx.body = entry;
    },
  );
}
