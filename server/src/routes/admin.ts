import { CHANNELS, DIRECTIONS, STATUSES } from '@carecomms/core';
import { defineRoute } from '../http/route.js';
import { Correspondence, Patient, externalId } from '../http/schemas.js';
import { z } from '../http/openapi.js';
import { auditActor } from '../http/state.js';
import type { AppContext } from '../http/route.js';
import type { RouteContext } from './context.js';

const tenantOf = (ctx: AppContext) => ctx.state.caller!.tenantId;

const PractitionerInput = z.object({ externalId, name: z.string().trim().min(1).max(200) });

/** The host-backend API, authenticated with the tenant's API key. */
export function registerAdminRoutes(rc: RouteContext): void {
  const { router, registry, authenticate, services, repos } = rc;

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/api/v1/sessions',
      summary: 'Mint a practitioner session token (creates or renames the practitioner)',
      tags: ['host backend'],
      auth: 'apiKey',
      body: z.object({
        practitioner: PractitionerInput,
        expiresInSeconds: z.number().int().min(60).max(12 * 3600).default(3600),
      }),
      responses: {
        201: {
          description: 'A session token for the browser',
          content: {
            'application/json': {
              schema: z.object({
                token: z.string(),
                expiresAt: z.string(),
                practitioner: z.object({ id: z.uuid(), externalId: z.string(), name: z.string() }),
              }),
            },
          },
        },
      },
      errors: [401, 422, 429],
    },
    authenticate,
    async (ctx, { body }) => {
      const tenantId = tenantOf(ctx);
      const { row } = await repos.tenants.upsertPractitioner(tenantId, body.practitioner.externalId, body.practitioner.name);
      const { token, expiresAt } = await services.auth.tokens.mint(tenantId, row.id, body.expiresInSeconds);
      ctx.status = 201;
      ctx.body = { token, expiresAt: expiresAt.toISOString(), practitioner: { id: row.id, externalId: row.external_id, name: row.name } };
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'put',
      path: '/api/v1/admin/practitioners/:externalId',
      summary: 'Create or update a practitioner',
      tags: ['host backend'],
      auth: 'apiKey',
      params: z.object({ externalId }),
      body: z.object({ name: z.string().trim().min(1).max(200) }),
      responses: {
        200: { description: 'Updated', content: { 'application/json': { schema: z.object({ id: z.uuid(), externalId: z.string(), name: z.string() }) } } },
        201: { description: 'Created' },
      },
      errors: [401, 422],
    },
    authenticate,
    async (ctx, { params, body }) => {
      const { row, created } = await repos.tenants.upsertPractitioner(tenantOf(ctx), params.externalId, body.name);
      ctx.status = created ? 201 : 200;
      ctx.body = { id: row.id, externalId: row.external_id, name: row.name };
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'put',
      path: '/api/v1/admin/patients/:externalId',
      summary: 'Create or update a patient by the host system’s id',
      tags: ['host backend'],
      auth: 'apiKey',
      params: z.object({ externalId }),
      body: z.object({
        name: z.string().trim().min(1).max(200),
        phone: z.string().trim().max(32).nullable().optional().openapi({ description: 'International format (E.164)', example: '+61491570006' }),
        email: z.email().max(254).nullable().optional(),
      }),
      responses: {
        200: { description: 'Updated', content: { 'application/json': { schema: Patient } } },
        201: { description: 'Created', content: { 'application/json': { schema: Patient } } },
      },
      errors: [401, 422],
    },
    authenticate,
    async (ctx, { params, body }) => {
      const { patient, created } = await services.patients.upsert(tenantOf(ctx), params.externalId, body, auditActor(ctx.state, ctx.ip));
      ctx.status = created ? 201 : 200;
      ctx.body = patient;
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'put',
      path: '/api/v1/admin/access',
      summary: 'Set exactly which patients a practitioner may see',
      tags: ['host backend'],
      auth: 'apiKey',
      body: z.object({
        practitioner: externalId.openapi({ description: 'The practitioner’s externalId' }),
        patients: z.array(externalId).max(10000).openapi({ description: 'externalIds of every patient they may see; replaces the previous list' }),
      }),
      responses: {
        200: {
          description: 'The grants now in force',
          content: { 'application/json': { schema: z.object({ practitioner: z.string(), patients: z.array(z.string()) }) } },
        },
      },
      errors: [401, 422],
    },
    authenticate,
    async (ctx, { body }) => {
      ctx.body = await services.patients.replaceAccess(tenantOf(ctx), body.practitioner, body.patients, auditActor(ctx.state, ctx.ip));
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/api/v1/admin/correspondence',
      summary: 'Log correspondence made elsewhere (e.g. an email)',
      tags: ['host backend'],
      auth: 'apiKey',
      body: z.object({
        patient: externalId,
        practitioner: externalId.optional(),
        channel: z.enum(CHANNELS),
        direction: z.enum(DIRECTIONS).default('outbound'),
        status: z.enum(STATUSES).optional(),
        body: z.string().max(20000).optional(),
        contact: z.string().trim().max(254).optional(),
        durationSeconds: z.number().int().min(0).max(86400).optional(),
        notes: z.string().max(20000).optional(),
        occurredAt: z.iso.datetime({ offset: true }).optional(),
      }),
      responses: { 201: { description: 'Logged', content: { 'application/json': { schema: Correspondence } } } },
      errors: [401, 422],
    },
    authenticate,
    async (ctx, { body }) => {
      ctx.status = 201;
      ctx.body = await services.correspondence.logExternal(tenantOf(ctx), body, auditActor(ctx.state, ctx.ip));
    },
  );
}
