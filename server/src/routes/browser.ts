import { CHANNELS, DIRECTIONS } from '@carecomms/core';
import { sendJson } from '../http/compressed.js';
import { defineRoute } from '../http/route.js';
import { Correspondence, Patient, Session, page, uuidParam } from '../http/schemas.js';
import { z } from '../http/openapi.js';
import { auditActor, type Caller } from '../http/state.js';
import type { AppContext } from '../http/route.js';
import type { RouteContext } from './context.js';

const limit = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);

export function practitionerOf(ctx: AppContext): Caller & { kind: 'practitioner' } {
  const caller = ctx.state.caller;
  if (caller?.kind !== 'practitioner') throw new Error('route needs a practitioner session');
  return caller;
}

/** The browser API: who am I, patients, history. */
export function registerBrowserRoutes(rc: RouteContext, features: Array<'sms' | 'voice' | 'video'>): void {
  const { router, registry, authenticate, services, repos, config } = rc;

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/api/v1/session',
      summary: 'The current practitioner, tenant, provider and available features',
      tags: ['session'],
      auth: 'session',
      responses: { 200: { description: 'Session', content: { 'application/json': { schema: Session } } } },
      errors: [401],
    },
    authenticate,
    async (ctx) => {
      const caller = practitionerOf(ctx);
      const [practitioner, tenant] = await Promise.all([
        repos.tenants.findPractitioner(caller.tenantId, caller.practitionerId),
        repos.tenants.findById(caller.tenantId),
      ]);
      ctx.body = {
        practitioner: { id: practitioner!.id, externalId: practitioner!.external_id, name: practitioner!.name },
        tenant: { id: tenant!.id, name: tenant!.name },
        provider: config.twilio ? 'twilio' : 'sandbox',
        features,
        expiresAt: caller.expiresAt.toISOString(),
      };
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/api/v1/patients',
      summary: 'Patients this practitioner may contact, in name order',
      tags: ['patients'],
      auth: 'session',
      query: z.object({
        q: z.string().trim().max(100).optional().openapi({ description: 'Part of the name or external id (case-insensitive), or 3+ digits of the phone number' }),
        cursor: z.string().max(512).optional(),
        limit: limit(100, 50),
      }),
      responses: { 200: { description: 'A page of patients', content: { 'application/json': { schema: page(Patient, 'PatientPage') } } } },
      errors: [401, 422],
    },
    authenticate,
    async (ctx, { query }) => {
      const caller = practitionerOf(ctx);
      ctx.body = await services.patients.list(caller, { ...query, q: query.q || undefined }, auditActor(ctx.state, ctx.ip));
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/api/v1/patients/:id',
      summary: 'One patient',
      tags: ['patients'],
      auth: 'session',
      params: z.object({ id: z.string() }),
      responses: { 200: { description: 'The patient', content: { 'application/json': { schema: Patient } } } },
      errors: [401, 404],
    },
    authenticate,
    async (ctx, { params }) => {
      ctx.body = await services.patients.get(practitionerOf(ctx), params.id, auditActor(ctx.state, ctx.ip));
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/api/v1/correspondence',
      summary: 'Correspondence history, newest first, keyset-paginated',
      tags: ['correspondence'],
      auth: 'session',
      query: z.object({
        patientId: uuidParam.optional(),
        channel: z.enum(CHANNELS).optional(),
        direction: z.enum(DIRECTIONS).optional(),
        cursor: z.string().max(512).optional(),
        limit: limit(200, 50),
      }),
      responses: {
        200: { description: 'A page of history', content: { 'application/json': { schema: page(Correspondence, 'CorrespondencePage') } } },
      },
      errors: [401, 404, 422],
    },
    authenticate,
    async (ctx, { query }) => {
      sendJson(ctx, await services.correspondence.history(practitionerOf(ctx), query, auditActor(ctx.state, ctx.ip)));
    },
  );
}
