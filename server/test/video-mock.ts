import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TEST_TWILIO } from './helpers.js';

interface RoomRequest {
  method: string;
  path: string;
  form: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A local stand-in for Twilio Video's Rooms resource (video.twilio.com/v1),
 * reached through TWILIO_API_URL like the Messages mock; records every request.
 */
export async function startRoomsMock() {
  const requests: RoomRequest[] = [];
  const failures: number[] = [];
  const rooms = new Map<string, { sid: string; unique_name: string; status: string }>();
  let counter = 0;
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://mock');
      const form = new URLSearchParams(raw);
      requests.push({ method: req.method!, path: url.pathname, form, headers: req.headers });
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const resource = (room: { sid: string; unique_name: string; status: string }) => ({
        ...room,
        account_sid: TEST_TWILIO.accountSid,
        type: 'group',
        max_participants: 2,
        url: `https://video.twilio.com/v1/Rooms/${room.sid}`,
      });
      if (req.method === 'POST' && url.pathname === '/v1/Rooms') {
        const failure = failures.shift();
        if (failure) return send(failure, { code: 53000, message: 'mock failure', status: failure });
        const room = { sid: `RM${(++counter).toString(16).padStart(32, '0')}`, unique_name: form.get('UniqueName')!, status: 'in-progress' };
        rooms.set(room.sid, room);
        return send(201, resource(room));
      }
      const one = /^\/v1\/Rooms\/(RM[0-9a-f]{32})$/.exec(url.pathname);
      if (req.method === 'POST' && one) {
        const room = rooms.get(one[1]!);
        if (!room) return send(404, { code: 20404, message: 'not found', status: 404 });
        room.status = form.get('Status') ?? room.status;
        return send(200, resource(room));
      }
      send(404, { code: 20404, message: 'not found', status: 404 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    rooms,
    failNext: (status: number) => failures.push(status),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
