import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer } from '../src/http/close.js';

/** A server whose answers wait until `release()`; connections kept alive far longer than the test runs. */
async function slowServer(): Promise<{ server: Server; url: string; release: () => void; requests: () => number }> {
  let waiting: Array<() => void> = [];
  let count = 0;
  const server = createServer((_req, res) => {
    count += 1;
    waiting.push(() => res.end('answered'));
  });
  server.keepAliveTimeout = 10 * 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    release: () => {
      for (const answer of waiting) answer();
      waiting = [];
    },
    requests: () => count,
  };
}

// A regression would wait for the keep-alive timeout: fail after 30 s instead of hanging for ten minutes.
test('closeServer answers the request in flight, then ends its kept-alive connection, and resolves', { timeout: 30_000 }, async () => {
  const { server, url, release, requests } = await slowServer();
  const answer = fetch(url).then((r) => r.text());
  while (requests() === 0) await new Promise((r) => setTimeout(r, 10));
  let closed = false;
  const closing = closeServer(server).then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(closed, false, 'not closed while a request is being answered');
  release();
  assert.equal(await answer, 'answered');
  // Without the sweep, http.Server.close() would wait for the 10-minute keep-alive timeout here.
  await closing;
  assert.equal(server.listening, false);
});

test('closeServer closes idle kept-alive connections at once, and refuses new ones', { timeout: 30_000 }, async () => {
  const { server, url, release, requests } = await slowServer();
  const first = fetch(url).then((r) => r.text());
  while (requests() === 0) await new Promise((r) => setTimeout(r, 10));
  release();
  assert.equal(await first, 'answered');
  await closeServer(server);
  await assert.rejects(fetch(url));
});
