import type { PassThrough } from 'node:stream';
import { z } from '../http/openapi.js';
import { openEventStream } from '../http/sse.js';
import { Problem } from '../http/schemas.js';
import type { AppContext } from '../http/route.js';
import type { OutgoingEvent } from '../realtime/hub.js';
import { practitionerOf } from './browser.js';
import type { RouteContext } from './context.js';

const EVENT_ID = /^\d{1,19}$/;

function frame(event: OutgoingEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/**
 * `GET /api/v1/events`: Server-Sent Events for the session's practitioner.
 * `Last-Event-ID` (header, or `lastEventId` query for clients that cannot set
 * headers) replays what was missed; the stream ends when the token expires so
 * the client reconnects with a fresh one.
 */
export function registerEventRoutes(rc: RouteContext, streams: Set<PassThrough>): void {
  const { router, registry, authenticate, hub } = rc;

  registry.registerPath({
    method: 'get',
    path: '/api/v1/events',
    summary: 'Realtime events (Server-Sent Events): correspondence.created, correspondence.updated, call.updated, video.updated, patient.updated',
    tags: ['realtime'],
    security: [{ session: [] }],
    request: { headers: z.object({ 'last-event-id': z.string().optional() }) },
    responses: {
      200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } },
      401: { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } },
    },
  });

  router.get('/api/v1/events', async (ctx) => {
    const appCtx = ctx as unknown as AppContext;
    await authenticate(appCtx, 'session');
    const caller = practitionerOf(appCtx);
    const lastEventId = ctx.get('Last-Event-ID') || (typeof ctx.query.lastEventId === 'string' ? ctx.query.lastEventId : '');
    const resumeFrom = EVENT_ID.test(lastEventId) ? lastEventId : null;

    const { stream, onClose } = openEventStream(ctx, { retryMs: 3000, streams });

    // Live events that arrive while the replay is read are held, then sent unless the replay had them.
    let replaying = resumeFrom !== null;
    const replayed = new Set<string>();
    const held: OutgoingEvent[] = [];
    const write = (event: OutgoingEvent) => {
      if (!replayed.has(event.id)) stream.write(frame(event));
    };
    const unsubscribe = hub.subscribe({
      tenantId: caller.tenantId,
      practitionerId: caller.practitionerId,
      send: (event) => (replaying ? held.push(event) : write(event)),
    });

    const expiry = setTimeout(() => stream.end(), Math.max(0, caller.expiresAt.getTime() - Date.now()));
    onClose(() => {
      clearTimeout(expiry);
      unsubscribe();
    });

    if (resumeFrom !== null) {
      try {
        for (const event of await hub.replay(caller.tenantId, caller.practitionerId, resumeFrom)) {
          write(event);
          replayed.add(event.id);
        }
      } finally {
        replaying = false;
        for (const event of held.splice(0)) write(event);
      }
    }
  });
}
