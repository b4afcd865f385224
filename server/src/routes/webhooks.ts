import type { Context } from 'koa';
import { AppError, forbidden } from '../errors.js';
import { z } from '../http/openapi.js';
import type { AppState } from '../http/state.js';
import { Problem } from '../http/schemas.js';
import { isValidTwilioSignature, parseWebhookForm, type WebhookParams } from '../providers/twilio-signature.js';
import { fromTwilioStatus } from '../providers/types.js';
import type { SystemActor } from '../services/sms.js';
import { webhookFormBody } from '../http/middleware.js';
import type { RouteContext } from './context.js';

export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

const formBody = webhookFormBody();

const field = (params: WebhookParams, ...names: string[]): string | null => {
  for (const name of names) {
    const value = params[name];
    if (typeof value === 'string') return value;
  }
  return null;
};

/**
 * Twilio's webhooks. Each request's X-Twilio-Signature is checked against the
 * URL rebuilt from BASE_URL with the auth token; a bad one gets 403 and
 * changes nothing. Only registered when Twilio is the provider.
 */
export function registerTwilioWebhooks(rc: RouteContext): void {
  const { router, registry, config, services } = rc;
  const authToken = config.twilio?.authToken;
  if (!authToken) return;

  const signed = (ctx: Context): WebhookParams => {
    const raw = (ctx.request as { rawBody?: string }).rawBody ?? '';
    const params = parseWebhookForm(raw);
    const url = config.baseUrl + ctx.originalUrl;
    if (!isValidTwilioSignature(authToken, ctx.get('X-Twilio-Signature') || undefined, url, params)) {
      throw forbidden('The X-Twilio-Signature header does not match this request');
    }
    return params;
  };
  const actorOf = (ctx: Context & { state: AppState }): SystemActor => ({ type: 'webhook', id: 'twilio', requestId: ctx.state.requestId, ip: ctx.ip });
  const twiml = (ctx: Context) => {
    ctx.status = 200;
    ctx.type = 'text/xml';
    ctx.body = EMPTY_TWIML;
  };

  for (const [path, summary] of [
    ['/webhooks/twilio/sms-status', 'Twilio SMS status callback (signed)'],
    ['/webhooks/twilio/sms-inbound', 'Twilio inbound SMS (signed)'],
  ] as const) {
    registry.registerPath({
      method: 'post',
      path,
      summary,
      tags: ['webhooks'],
      request: {
        headers: z.object({ 'x-twilio-signature': z.string() }),
        body: { content: { 'application/x-www-form-urlencoded': { schema: z.record(z.string(), z.string()) } } },
      },
      responses: {
        200: { description: 'Empty TwiML', content: { 'text/xml': { schema: z.string() } } },
        403: { description: 'Bad signature', content: { 'application/problem+json': { schema: Problem } } },
      },
    });
  }

  router.post('/webhooks/twilio/sms-status', formBody, async (ctx) => {
    const params = signed(ctx);
    const status = fromTwilioStatus(field(params, 'MessageStatus', 'SmsStatus'));
    const sid = field(params, 'MessageSid', 'SmsSid');
    if (status && sid) {
      const ref = typeof ctx.query.ref === 'string' ? ctx.query.ref : null;
      await services.sms.applyStatus({ reference: ref, sid, status, errorCode: field(params, 'ErrorCode') || null }, actorOf(ctx as never));
    }
    twiml(ctx);
  });

  router.post('/webhooks/twilio/sms-inbound', formBody, async (ctx) => {
    const params = signed(ctx);
    const sid = field(params, 'MessageSid', 'SmsSid');
    const from = field(params, 'From');
    const to = field(params, 'To');
    const body = field(params, 'Body') ?? '';
    if (!sid || !from || !to) throw new AppError(400, 'validation_failed', 'Bad request', 'MessageSid, From and To are required');
    await services.sms.receive({ sid, from, to, body }, actorOf(ctx as never));
    twiml(ctx);
  });
}
