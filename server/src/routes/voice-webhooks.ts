import type { Context } from 'koa';
import twilio from 'twilio';
import { forbidden } from '../errors.js';
import { z } from '../http/openapi.js';
import { Problem } from '../http/schemas.js';
import type { AppState } from '../http/state.js';
import { isValidTwilioSignature, parseWebhookForm, type WebhookParams } from '../providers/twilio-signature.js';
import { CONFERENCE_STATUS_EVENTS } from '../providers/voice-twilio.js';
import type { CallService } from '../services/calls.js';
import type { SystemActor } from '../services/sms.js';
import { webhookFormBody } from '../http/middleware.js';
import type { RouteContext } from './context.js';

const formBody = webhookFormBody();

const field = (params: WebhookParams, name: string): string | null => {
  const value = params[name];
  return typeof value === 'string' && value !== '' ? value : null;
};

const CLIENT_PREFIX = 'client:';

/**
 * Twilio's voice webhooks: `/voice` answers the browser's leg (the TwiML app's
 * voice URL) with TwiML placing it in the call's conference; `/call-status`,
 * `/conference-status` and `/recording-status` report on the call;
 * `/recording-notice` is what the patient hears first when the call is
 * recorded. Every request's X-Twilio-Signature is checked against the URL
 * rebuilt from BASE_URL; a bad one gets 403 and changes nothing. Only
 * registered when Twilio is the provider.
 */
export function registerVoiceWebhooks(rc: RouteContext, calls: CallService): void {
  const { router, registry, config } = rc;
  const authToken = config.twilio?.authToken;
  if (!authToken) return;

  const signed = (ctx: Context): WebhookParams => {
    const params = parseWebhookForm((ctx.request as { rawBody?: string }).rawBody ?? '');
    if (!isValidTwilioSignature(authToken, ctx.get('X-Twilio-Signature') || undefined, config.baseUrl + ctx.originalUrl, params)) {
      throw forbidden('The X-Twilio-Signature header does not match this request');
    }
    return params;
  };
  const actorOf = (ctx: Context): SystemActor => ({
    type: 'webhook',
    id: 'twilio',
    requestId: (ctx as Context & { state: AppState }).state.requestId,
    ip: ctx.ip,
  });
  const twiml = (ctx: Context, response: twilio.twiml.VoiceResponse) => {
    ctx.status = 200;
    ctx.type = 'text/xml';
    ctx.body = response.toString();
  };
  const query = (ctx: Context, name: string) => (typeof ctx.query[name] === 'string' ? (ctx.query[name] as string) : null);

  const form = {
    headers: z.object({ 'x-twilio-signature': z.string() }),
    body: { content: { 'application/x-www-form-urlencoded': { schema: z.record(z.string(), z.string()) } } },
  };
  const twimlResponse = { description: 'TwiML', content: { 'text/xml': { schema: z.string() } } };
  const badSignature = { description: 'Bad signature', content: { 'application/problem+json': { schema: Problem } } };
  for (const [path, summary] of [
    ['/webhooks/twilio/voice', 'Twilio: the browser’s call (the TwiML app’s voice URL), answered with TwiML joining the call’s conference (signed)'],
    ['/webhooks/twilio/recording-notice', 'Twilio: the notice a recorded call’s patient hears first (signed)'],
  ] as const) {
    registry.registerPath({ method: 'post', path, summary, tags: ['webhooks'], request: form, responses: { 200: twimlResponse, 403: badSignature } });
  }
  for (const [path, summary] of [
    ['/webhooks/twilio/call-status', 'Twilio: the patient leg’s status callback (signed, idempotent, any order)'],
    ['/webhooks/twilio/conference-status', 'Twilio: the call conference’s status callback (signed, idempotent, any order)'],
    ['/webhooks/twilio/recording-status', 'Twilio: the call recording’s status callback (signed, idempotent)'],
  ] as const) {
    registry.registerPath({ method: 'post', path, summary, tags: ['webhooks'], request: form, responses: { 204: { description: 'Accepted' }, 403: badSignature } });
  }

  router.post('/webhooks/twilio/voice', formBody, async (ctx) => {
    const params = signed(ctx);
    const from = field(params, 'From') ?? field(params, 'Caller');
    const answer = await calls.connectBrowserLeg(
      {
        callId: field(params, 'callId'),
        identity: from?.startsWith(CLIENT_PREFIX) ? from.slice(CLIENT_PREFIX.length) : null,
        callSid: field(params, 'CallSid') ?? '',
      },
      actorOf(ctx),
    );
    const response = new twilio.twiml.VoiceResponse();
    if (answer.action === 'reject') {
      if (answer.reason === 'dial_failed') response.say('The patient’s phone could not be called. Please try again later.');
      response.hangup();
      return twiml(ctx, response);
    }
    const { call, notice } = answer;
    const callbacks = calls.conferenceCallbacks(call.id);
    if (notice) response.say(notice);
    response.dial().conference(
      {
        participantLabel: 'clinician',
        startConferenceOnEnter: true,
        endConferenceOnExit: true,
        beep: 'false',
        waitUrl: '',
        statusCallback: callbacks.conferenceStatus,
        statusCallbackMethod: 'POST',
        statusCallbackEvent: CONFERENCE_STATUS_EVENTS as Array<'start' | 'end' | 'join' | 'leave' | 'hold'>,
        ...(call.recording
          ? {
              record: 'record-from-start' as const,
              recordingStatusCallback: callbacks.recordingStatus,
              recordingStatusCallbackMethod: 'POST',
              recordingStatusCallbackEvent: ['completed' as const, 'absent' as const],
            }
          : {}),
      },
      call.conference_name,
    );
    twiml(ctx, response);
  });

  router.post('/webhooks/twilio/recording-notice', formBody, async (ctx) => {
    signed(ctx);
    const response = new twilio.twiml.VoiceResponse();
    const notice = await calls.recordingNotice(query(ctx, 'ref'));
    if (notice) response.say(notice);
    twiml(ctx, response);
  });

  for (const path of ['call-status', 'conference-status', 'recording-status'] as const) {
    router.post(`/webhooks/twilio/${path}`, formBody, async (ctx) => {
      const params = signed(ctx);
      await calls.handleWebhook(path, { ref: query(ctx, 'ref'), leg: query(ctx, 'leg') }, params, actorOf(ctx));
      ctx.status = 204;
    });
  }
}
