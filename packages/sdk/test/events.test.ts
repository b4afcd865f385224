import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { CareEvent } from '@carecomms/core';
import { createCareClient, type EventStreamState } from '../src/index.ts';

type Connection = { req: IncomingMessage; res: ServerResponse };

/** A real SSE server whose connections the test drives one by one. */
function sseServer() {
  const connections: Connection[] = [];
  const waiters: Array<(c: Connection) => void> = [];
  let refuseNext = 0;
  const server = createServer((req, res) => {
    if (refuseNext > 0) {
      refuseNext -= 1;
      res.writeHead(503, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'about:blank', title: 'Unavailable', status: 503, code: 'unavailable' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.flushHeaders();
    const connection = { req, res };
    connections.push(connection);
    waiters.shift()?.(connection);
  });
  return {
    server,
    connections,
    refuse(count: number) {
      refuseNext = count;
    },
    nextConnection(): Promise<Connection> {
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}

function collector() {
  const events: CareEvent[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  return {
    events,
    handler(event: CareEvent) {
      events.push(event);
      for (const w of waiters.filter((w) => events.length >= w.count)) w.resolve();
    },
    until(count: number): Promise<void> {
      if (events.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
  };
}

describe('events.subscribe', () => {
  const sse = sseServer();
  let baseUrl = '';

  before(async () => {
    sse.server.listen(0, '127.0.0.1');
    await once(sse.server, 'listening');
    baseUrl = `http://127.0.0.1:${(sse.server.address() as AddressInfo).port}`;
  });
  after(() => {
    sse.server.closeAllConnections();
    sse.server.close();
  });

  const client = () =>
    createCareClient({
      baseUrl,
      token: 'tok',
      events: { retryDelayMs: 10, maxRetryDelayMs: 50, heartbeatTimeoutMs: 300 },
    });

  it('parses typed events split across chunks, ignoring comments and unknown types', async () => {
    const received = collector();
    const connected = sse.nextConnection();
    const unsubscribe = client().events.subscribe(received.handler);
    const { req, res } = await connected;
    assert.equal(req.headers.authorization, 'Bearer tok');
    assert.equal(req.headers.accept, 'text/event-stream');
    assert.equal(req.headers['last-event-id'], undefined);

    res.write(': ping\n\n');
    res.write('id: 1\nevent: correspondence.created\ndata: {"id":"e1",');
    res.write('"body":"Hi\\nthere"}\n\n');
    res.write('id: 2\nevent: something.else\ndata: {}\n\n');
    res.write('id: 3\r\nevent: patient.updated\r\ndata: {"id":"p1"}\r\n\r\n');
    await received.until(2);
    unsubscribe();

    assert.deepEqual(received.events, [
      { id: '1', type: 'correspondence.created', data: { id: 'e1', body: 'Hi\nthere' } },
      { id: '3', type: 'patient.updated', data: { id: 'p1' } },
    ]);
  });

  it('reconnects after the stream ends and resumes with Last-Event-ID', async () => {
    const received = collector();
    const states: EventStreamState[] = [];
    const first = sse.nextConnection();
    const unsubscribe = client().events.subscribe(received.handler, {
      lastEventId: '40',
      onStateChange: (s) => states.push(s),
      onError: () => {},
    });
    const one = await first;
    assert.equal(one.req.headers['last-event-id'], '40');
    one.res.write('id: 41\nevent: correspondence.updated\ndata: {"id":"e41"}\n\n');
    await received.until(1);

    const second = sse.nextConnection();
    one.res.end();
    const two = await second;
    assert.equal(two.req.headers['last-event-id'], '41');
    two.res.write('id: 42\nevent: call.updated\ndata: {"id":"e42"}\n\n');
    await received.until(2);
    unsubscribe();

    assert.deepEqual(
      received.events.map((e) => e.id),
      ['41', '42'],
    );
    assert.deepEqual(states, ['connecting', 'open', 'reconnecting', 'open']);
  });

  it('backs off through error responses and reports them', async () => {
    const errors: unknown[] = [];
    sse.refuse(2);
    const connected = sse.nextConnection();
    const unsubscribe = client().events.subscribe(() => {}, { onError: (e) => errors.push(e) });
    await connected;
    unsubscribe();
    assert.equal(errors.length, 2);
    assert.deepEqual(
      errors.map((e) => (e as { code: string }).code),
      ['unavailable', 'unavailable'],
    );
  });

  it('reconnects when the heartbeat stops', async () => {
    const first = sse.nextConnection();
    const errors: unknown[] = [];
    const unsubscribe = client().events.subscribe(() => {}, { onError: (e) => errors.push(e) });
    const one = await first;
    one.res.write('id: 7\nevent: video.updated\ndata: {}\n\n');
    const two = await sse.nextConnection();
    unsubscribe();
    assert.equal(two.req.headers['last-event-id'], '7');
    assert.deepEqual(errors, [], 'a silent stream is not reported as an error');
  });

  it('unsubscribing before the stream code has loaded never connects', async () => {
    const fresh = client();
    let connections = 0;
    const count = () => (connections += 1);
    sse.server.on('request', count);
    fresh.events.subscribe(() => {})();
    // A second subscriber on the same client loads the stream once and does connect.
    const connected = sse.nextConnection();
    const unsubscribe = fresh.events.subscribe(() => {});
    await connected;
    unsubscribe();
    sse.server.off('request', count);
    assert.equal(connections, 1);
  });

  it('shares one connection between subscribers, each told its state, until the last unsubscribes', async () => {
    const shared = client();
    let connections = 0;
    const count = () => (connections += 1);
    sse.server.on('request', count);
    try {
      const list = collector();
      const call = collector();
      const callStates: EventStreamState[] = [];
      const connected = sse.nextConnection();
      const leaveList = shared.events.subscribe(list.handler);
      const { res } = await connected;
      res.write('id: 1\nevent: correspondence.created\ndata: {"id":"e1"}\n\n');
      await list.until(1);
      // A call starts: its session subscribes too, on the same connection, and is told it is open.
      const leaveCall = shared.events.subscribe(call.handler, { onStateChange: (s) => callStates.push(s) });
      assert.deepEqual(callStates, ['open']);
      res.write('id: 2\nevent: call.updated\ndata: {"id":"c1"}\n\n');
      await Promise.all([list.until(2), call.until(1)]);
      assert.deepEqual(call.events.map((e) => e.id), ['2'], 'from when it subscribed');

      // One subscriber whose handler throws does not stop the other.
      const failing = shared.events.subscribe(() => {
        throw new Error('boom');
      }, { onError: () => {} });
      leaveCall();
      res.write('id: 3\nevent: call.updated\ndata: {"id":"c1"}\n\n');
      await list.until(3);
      assert.equal(call.events.length, 1, 'no events after unsubscribing');
      failing();
      assert.equal(connections, 1, 'one connection for all of them');

      const closed = once(res, 'close');
      leaveList();
      await closed;
      // A later subscriber opens a new one.
      const again = sse.nextConnection();
      const leaveAgain = shared.events.subscribe(() => {});
      await again;
      leaveAgain();
      assert.equal(connections, 2);
    } finally {
      sse.server.off('request', count);
    }
  });

  it('closes the connection on unsubscribe', async () => {
    const connected = sse.nextConnection();
    const unsubscribe = client().events.subscribe(() => {});
    const { res } = await connected;
    const closed = once(res, 'close');
    unsubscribe();
    await closed;
  });
});
