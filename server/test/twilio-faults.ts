import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTwilioMock } from './helpers.js';
import { startRoomsMock } from './video-mock.js';
import { startVoiceMock } from './voice-mock.js';

/**
 * What happens to one request to Twilio. `reached: true` means Twilio acted on
 * it (the message was created, the room opened) before the answer went wrong:
 * the ambiguous case a client must look up before trying again.
 */
export type TwilioFault =
  /** An HTTP error answer, e.g. 429 with Retry-After, 500, 503. */
  | { kind: 'status'; status: number; code?: number; retryAfter?: string; reached?: boolean }
  /** No answer, ever: the caller's own timeout must end it. */
  | { kind: 'hang'; reached?: boolean }
  /** The connection is reset (`socket.destroy()`) with no answer. */
  | { kind: 'reset'; reached?: boolean };

export interface FaultRule {
  method: string;
  /** Matches the request path (no query). */
  path: RegExp;
  fault: TwilioFault;
}

/**
 * One origin for all of Twilio's REST APIs (what TWILIO_API_URL points at):
 * Messages go to the Messages mock, Rooms to the Rooms mock, the rest
 * (conferences, participants, calls) to the Voice mock. Queued faults are
 * applied, in order, to the next matching requests; everything else passes
 * through untouched.
 */
export async function startTwilioWithFaults() {
  const messages = await startTwilioMock();
  const rooms = await startRoomsMock();
  const voice = await startVoiceMock();
  const rules: FaultRule[] = [];
  /** Every request that reached the proxy, with the fault it met (null: passed through). */
  const seen: Array<{ method: string; path: string; query: URLSearchParams; form: URLSearchParams; fault: TwilioFault | null }> = [];
  const hanging = new Set<ServerResponse>();

  const targetFor = (path: string) =>
    path.startsWith('/v1/Rooms') ? rooms.url : /^\/2010-04-01\/Accounts\/[^/]+\/Messages(\.json|\/)/.test(path) ? messages.url : voice.url;

  const forward = async (req: IncomingMessage, body: Buffer) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && !['host', 'connection', 'content-length', 'keep-alive'].includes(name)) headers[name] = value;
    }
    const path = new URL(req.url!, 'http://proxy').pathname;
    const answer = await fetch(targetFor(path) + req.url, { method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : new Uint8Array(body) });
    return { status: answer.status, type: answer.headers.get('content-type') ?? 'application/json', body: Buffer.from(await answer.arrayBuffer()) };
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const path = new URL(req.url!, 'http://proxy').pathname;
        const index = rules.findIndex((r) => r.method === req.method && r.path.test(path));
        const fault = index >= 0 ? rules.splice(index, 1)[0]!.fault : null;
        const url = new URL(req.url!, 'http://proxy');
        seen.push({ method: req.method!, path, query: url.searchParams, form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')), fault });
        const answer = !fault || fault.reached ? await forward(req, Buffer.concat(chunks)) : null;
        if (!fault) {
          res.writeHead(answer!.status, { 'content-type': answer!.type });
          return res.end(answer!.body);
        }
        if (fault.kind === 'status') {
          res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}) });
          return res.end(JSON.stringify({ code: fault.code ?? fault.status * 100, message: 'mock fault', more_info: 'https://www.twilio.com/docs/errors', status: fault.status }));
        }
        if (fault.kind === 'reset') return req.socket.destroy();
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
      })().catch(() => req.socket.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    messages,
    rooms,
    voice,
    seen,
    /** Queues faults for the next requests that match. */
    inject(...items: FaultRule[]) {
      rules.push(...items);
    },
    /** Faults still waiting for a request. */
    pending: () => rules.length,
    /** Requests held without an answer whose caller is still waiting. */
    unanswered: () => hanging.size,
    /** Drops the faults no request has met yet. */
    clearFaults: () => void rules.splice(0),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([messages.close(), rooms.close(), voice.close()]);
    },
  };
}

export const MESSAGE_CREATE = /^\/2010-04-01\/Accounts\/[^/]+\/Messages\.json$/;
export const ROOM_CREATE = /^\/v1\/Rooms$/;
export const PARTICIPANT_CREATE = /^\/2010-04-01\/Accounts\/[^/]+\/Conferences\/[^/]+\/Participants\.json$/;
export const PARTICIPANT_UPDATE = /^\/2010-04-01\/Accounts\/[^/]+\/Conferences\/[^/]+\/Participants\/[^/]+\.json$/;
