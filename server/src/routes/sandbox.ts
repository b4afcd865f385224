import path from 'node:path';
import type { PassThrough } from 'node:stream';
import { send } from '@koa/send';
import { toE164 } from '@carecomms/core/phone';
import { defineRoute } from '../http/route.js';
import { z } from '../http/openapi.js';
import { openEventStream } from '../http/sse.js';
import type { SandboxMessageRow } from '../repositories/sandbox.js';
import type { TenantRow } from '../repositories/rows.js';
import type { SandboxProvider } from '../providers/sandbox.js';
import type { SandboxPhoneCall, SandboxVoiceProvider } from '../providers/voice-sandbox.js';
import type { SandboxPhoneHub } from '../sandbox/hub.js';
import { MAX_SMS_LENGTH } from '../services/sms.js';
import { validationFailed } from '../errors.js';
import type { RouteContext } from './context.js';

export const SANDBOX_PUBLIC_DIR = path.resolve(import.meta.dirname, '../sandbox/public');

const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number like +61491570006');

const SandboxMessage = z
  .object({
    id: z.string(),
    sid: z.string(),
    from: z.string(),
    to: z.string(),
    body: z.string(),
    status: z.string(),
    clinicName: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('SandboxMessage');

/**
 * The sandbox provider's test API and the patient phone simulator: only
 * registered when the sandbox is the live provider. No authentication: it
 * exists for demos and tests with fictional numbers.
 */
export function registerSandboxRoutes(
  rc: RouteContext,
  provider: SandboxProvider,
  hub: SandboxPhoneHub,
  streams: Set<PassThrough>,
  voice: SandboxVoiceProvider | null = null,
): void {
  const { router, registry, repos, services } = rc;

  const clinicNames = async (numbers: string[]) => {
    const names = new Map<string, string>();
    for (const number of new Set(numbers)) {
      const tenants: TenantRow[] = await repos.tenants.findByMessagingNumber(number, services.sms.defaultNumber);
      if (tenants[0]) names.set(number, tenants[0].name);
    }
    return names;
  };
  const toMessage = (row: SandboxMessageRow, names: Map<string, string>) => ({
    id: row.id,
    sid: row.sid,
    from: row.direction === 'to_phone' ? row.clinic_number : row.phone,
    to: row.direction === 'to_phone' ? row.phone : row.clinic_number,
    body: row.body,
    status: row.status,
    clinicName: names.get(row.clinic_number) ?? null,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  });

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/sandbox/api/messages',
      summary: 'Sandbox: a phone’s messages, both directions, oldest first (poll with `after`)',
      tags: ['sandbox'],
      auth: 'none',
      query: z.object({
        phone: e164,
        after: z.string().regex(/^\d{1,19}$/).optional().openapi({ description: 'Only messages with a larger id' }),
        limit: z.coerce.number().int().min(1).max(500).default(200),
      }),
      responses: { 200: { description: 'Messages', content: { 'application/json': { schema: z.object({ items: z.array(SandboxMessage) }) } } } },
      errors: [422],
    },
    async () => undefined,
    async (ctx, { query }) => {
      const rows = await repos.sandbox.listForPhone(query.phone, query.after ?? null, query.limit);
      const names = await clinicNames(rows.map((r) => r.clinic_number));
      ctx.body = { items: rows.map((r) => toMessage(r, names)) };
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/sandbox/api/sms',
      summary: 'Sandbox: text the clinic from a patient’s phone, handled exactly as Twilio’s inbound webhook (STOP, START, HELP work)',
      tags: ['sandbox'],
      auth: 'none',
      body: z.object({
        from: e164,
        body: z.string().min(1).max(MAX_SMS_LENGTH),
        to: e164.optional().openapi({ description: 'The clinic number; default: the last clinic that texted this phone' }),
      }),
      responses: { 201: { description: 'Delivered to the clinic', content: { 'application/json': { schema: SandboxMessage } } } },
      errors: [422],
    },
    async () => undefined,
    async (ctx, { body }) => {
      const to = body.to ?? (await repos.sandbox.lastClinicNumber(body.from)) ?? (await clinicOfPatientPhone(body.from));
      if (!to) throw validationFailed([{ path: 'body.to', message: 'no clinic has texted this phone yet; give the clinic number' }]);
      const row = await provider.receiveFromPhone({ from: body.from, to, body: body.body });
      ctx.status = 201;
      ctx.body = toMessage(row, await clinicNames([row.clinic_number]));
    },
  );

  /** The number of the first clinic with a patient on this phone. */
  async function clinicOfPatientPhone(phone: string): Promise<string | null> {
    const row = await rc.db
      .knex('patients as p')
      .join('tenants as t', 't.id', 'p.tenant_id')
      .where('p.phone', phone)
      .orderBy('t.created_at')
      .first('t.twilio_phone_number');
    return row ? services.sms.senderNumber(row as Pick<TenantRow, 'twilio_phone_number'>) : null;
  }

  registry.registerPath({
    method: 'get',
    path: '/sandbox/api/events',
    summary:
      'Sandbox: Server-Sent Events `message` (new or changed) for one phone; with `calls=1`, also its `call` events (as /sandbox/api/calls/events), so that the phone holds one connection rather than two',
    tags: ['sandbox'],
    request: { query: z.object({ phone: e164, calls: z.enum(['1']).optional() }) },
    responses: { 200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } } },
  });
  router.get('/sandbox/api/events', async (ctx) => {
    const phone = typeof ctx.query.phone === 'string' ? toE164(ctx.query.phone) : null;
    if (!phone) throw validationFailed([{ path: 'query.phone', message: 'must be an E.164 number like +61491570006' }]);
    const { stream, onClose } = openEventStream(ctx, { retryMs: 3000, streams });
    // One write at a time, in arrival order: a status change must not overtake its message.
    let writing = Promise.resolve();
    const unsubscribe = hub.subscribe(phone, (row) => {
      writing = writing
        .then(() => clinicNames([row.clinic_number]))
        .then((names) => {
          stream.write(`id: ${row.id}\nevent: message\ndata: ${JSON.stringify(toMessage(row, names))}\n\n`);
        })
        .catch(() => undefined);
    });
    onClose(unsubscribe);
    if (ctx.query.calls === '1' && voice) {
      const write = (call: SandboxPhoneCall) => stream.write(`event: call\ndata: ${JSON.stringify(call)}\n\n`);
      onClose(voice.subscribe(phone, write));
      for (const call of voice.active(phone)) write(call);
    }
  });

  router.get('/sandbox/phone', async (ctx) => {
    await send(ctx, 'phone.html', { root: SANDBOX_PUBLIC_DIR });
    ctx.set('Cache-Control', 'no-store');
  });
}
