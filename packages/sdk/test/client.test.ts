import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CareApiError, createCareClient } from '../src/index.ts';

interface Recorded {
  url: URL;
  method: string;
  headers: Headers;
  body: unknown;
}

/** A fetch that records each request and answers from a queue of responders. */
function fakeFetch(...responders: Array<(req: Recorded) => Response | Promise<Response>>) {
  const requests: Recorded[] = [];
  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const req: Recorded = {
      url: new URL(String(input)),
      method: init.method ?? 'GET',
      headers: new Headers(init.headers),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    requests.push(req);
    const responder = responders.shift();
    if (!responder) throw new Error(`unexpected request ${req.method} ${req.url}`);
    return responder(req);
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const problem = (status: number, code: string, detail: string) =>
  new Response(JSON.stringify({ type: 'about:blank', title: 'Error', status, code, detail }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });

describe('createCareClient', () => {
  it('sends the bearer token and builds list queries without empty params', async () => {
    const { fetch, requests } = fakeFetch(() => json({ items: [], nextCursor: null }));
    const client = createCareClient({ baseUrl: 'https://comms.test/', token: 't1', fetch });
    await client.patients.list({ q: 'lee', cursor: null, limit: 20 });
    const [req] = requests;
    assert.equal(req?.url.href, 'https://comms.test/api/v1/patients?q=lee&limit=20');
    assert.equal(req?.headers.get('authorization'), 'Bearer t1');
  });

  it('covers every resource path', async () => {
    const { fetch, requests } = fakeFetch(
      () => json({ practitioner: { id: 'p' } }),
      () => json({ id: 'pat/1' }),
      () => json({ items: [], nextCursor: 'c2' }),
      () => json({ id: 'e1' }, 202),
    );
    const client = createCareClient({ baseUrl: 'https://comms.test', token: 't', fetch });
    await client.session.get();
    await client.patients.get('pat/1');
    const page = await client.correspondence.list({ patientId: 'p1', channel: 'sms', direction: 'inbound', cursor: 'c1' });
    const sent = await client.messages.send('p1', { body: 'Hello' }, { idempotencyKey: 'k-1' });
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.url.pathname}${r.url.search}`),
      [
        'GET /api/v1/session',
        'GET /api/v1/patients/pat%2F1',
        'GET /api/v1/correspondence?patientId=p1&channel=sms&direction=inbound&cursor=c1',
        'POST /api/v1/patients/p1/messages',
      ],
    );
    assert.equal(page.nextCursor, 'c2');
    assert.equal(sent.id, 'e1');
    assert.deepEqual(requests[3]?.body, { body: 'Hello' });
    assert.equal(requests[3]?.headers.get('idempotency-key'), 'k-1');
    assert.equal(requests[3]?.headers.get('content-type'), 'application/json');
  });

  it('generates an idempotency key when none is given', async () => {
    const { fetch, requests } = fakeFetch(
      () => json({ id: 'e1' }, 202),
      () => json({ id: 'e2' }, 202),
    );
    const client = createCareClient({ baseUrl: 'https://comms.test', token: 't', fetch });
    await client.messages.send('p1', { body: 'a' });
    await client.messages.send('p1', { body: 'b' });
    const keys = requests.map((r) => r.headers.get('idempotency-key'));
    assert.match(keys[0] ?? '', /^[0-9a-f-]{36}$/);
    assert.notEqual(keys[0], keys[1]);
  });

  it('asks getToken for every request and retries once with a refreshed token after 401', async () => {
    let token = 'old';
    let calls = 0;
    const { fetch, requests } = fakeFetch(
      () => {
        token = 'new';
        return problem(401, 'unauthorized', 'Session expired');
      },
      () => json({ items: [], nextCursor: null }),
    );
    const client = createCareClient({
      baseUrl: 'https://comms.test',
      getToken: async () => {
        calls += 1;
        return token;
      },
      fetch,
    });
    await client.patients.list();
    assert.equal(calls, 2);
    assert.deepEqual(
      requests.map((r) => r.headers.get('authorization')),
      ['Bearer old', 'Bearer new'],
    );
  });

  it('does not retry a 401 when the token did not change', async () => {
    const { fetch, requests } = fakeFetch(() => problem(401, 'unauthorized', 'Session expired'));
    const client = createCareClient({ baseUrl: 'https://comms.test', getToken: () => 'same', fetch });
    await assert.rejects(client.session.get(), { name: 'CareApiError', status: 401, code: 'unauthorized' });
    assert.equal(requests.length, 1);
  });

  it('throws CareApiError with the problem document for non-2xx answers', async () => {
    const { fetch } = fakeFetch(() => problem(409, 'opted_out', 'This patient has opted out of SMS.'));
    const client = createCareClient({ baseUrl: 'https://comms.test', token: 't', fetch });
    const error = await client.messages.send('p1', { body: 'x' }).catch((e: unknown) => e);
    assert.ok(error instanceof CareApiError);
    assert.equal(error.status, 409);
    assert.equal(error.code, 'opted_out');
    assert.equal(error.detail, 'This patient has opted out of SMS.');
    assert.equal(error.problem?.status, 409);
  });

  it('reports a non-problem error body as unexpected_response', async () => {
    const { fetch } = fakeFetch(() => new Response('<h1>Bad gateway</h1>', { status: 502, statusText: 'Bad Gateway' }));
    const client = createCareClient({ baseUrl: 'https://comms.test', token: 't', fetch });
    await assert.rejects(client.session.get(), { status: 502, code: 'unexpected_response', problem: null });
  });

  it('turns a failed fetch into network_error, but lets an abort through', async () => {
    const { fetch } = fakeFetch(() => {
      throw new TypeError('fetch failed');
    });
    const client = createCareClient({ baseUrl: 'https://comms.test', token: 't', fetch });
    await assert.rejects(client.session.get(), { name: 'CareApiError', status: 0, code: 'network_error' });

    const controller = new AbortController();
    controller.abort();
    const aborting = createCareClient({
      baseUrl: 'https://comms.test',
      token: 't',
      fetch: (async (_: unknown, init: RequestInit) => {
        init.signal?.throwIfAborted();
        return json({});
      }) as typeof globalThis.fetch,
    });
    await assert.rejects(aborting.session.get({ signal: controller.signal }), { name: 'AbortError' });
  });

  it('requires a baseUrl', () => {
    assert.throws(() => createCareClient({ baseUrl: '' }), TypeError);
  });
});
