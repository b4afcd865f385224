import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CareApiError, createCareClient } from '../src/index.ts';

interface Recorded {
  url: URL;
  method: string;
  headers: Headers;
  body: unknown;
  keepalive: boolean | undefined;
}

function fakeFetch(respond: (req: Recorded) => Response) {
  const requests: Recorded[] = [];
  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const req: Recorded = {
      url: new URL(String(input)),
      method: init.method ?? 'GET',
      headers: new Headers(init.headers),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      keepalive: init.keepalive,
    };
    requests.push(req);
    return respond(req);
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('client.calls', () => {
  it('covers every call route with the right method, path and body', async () => {
    const { fetch, requests } = fakeFetch((req) =>
      req.url.pathname.endsWith('/recording/link')
        ? json({ url: '/api/v1/calls/c%201/recording?access=abc', expiresAt: '2030-01-01T00:00:00.000Z' }, 201)
        : json({ id: 'c 1' }, req.method === 'POST' && req.url.pathname.endsWith('/calls') ? 201 : 200),
    );
    const client = createCareClient({ baseUrl: 'https://comms.test/base', token: 't', fetch });
    await client.calls.start('p/1');
    await client.calls.get('c 1');
    await client.calls.hold('c 1');
    await client.calls.resume('c 1');
    await client.calls.end('c 1');
    await client.calls.updateNotes('c 1', 'Call back Friday');
    const link = await client.calls.recordingUrl('c 1');
    assert.deepEqual(
      requests.map((r) => [r.method, r.url.pathname, r.body]),
      [
        ['POST', '/base/api/v1/patients/p%2F1/calls', undefined],
        ['GET', '/base/api/v1/calls/c%201', undefined],
        ['POST', '/base/api/v1/calls/c%201/hold', undefined],
        ['POST', '/base/api/v1/calls/c%201/resume', undefined],
        ['POST', '/base/api/v1/calls/c%201/end', undefined],
        ['PATCH', '/base/api/v1/calls/c%201', { notes: 'Call back Friday' }],
        ['POST', '/base/api/v1/calls/c%201/recording/link', undefined],
      ],
    );
    for (const req of requests) assert.equal(req.headers.get('authorization'), 'Bearer t');
    assert.equal(link.url, 'https://comms.test/base/api/v1/calls/c%201/recording?access=abc', 'made absolute against the client’s base URL');
  });

  it('ends a call with a request that outlives the page when asked (pagehide), and only then', async () => {
    const { fetch, requests } = fakeFetch(() => json({ id: 'c1' }));
    const client = createCareClient({ baseUrl: 'https://comms.test', token: 't', fetch });
    await client.calls.end('c1', { keepalive: true });
    await client.calls.end('c1');
    assert.deepEqual(
      requests.map((r) => r.keepalive),
      [true, false],
    );
  });

  it('turns problems into CareApiError, as every other resource does', async () => {
    const { fetch } = fakeFetch(
      () =>
        new Response(JSON.stringify({ type: 'about:blank', title: 'Conflict', status: 409, code: 'opted_out', detail: 'Opted out' }), {
          status: 409,
          headers: { 'content-type': 'application/problem+json' },
        }),
    );
    const client = createCareClient({ baseUrl: 'https://comms.test', token: 't', fetch });
    await assert.rejects(client.calls.start('p1'), (error: unknown) => error instanceof CareApiError && error.status === 409 && error.code === 'opted_out');
  });
});
