import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createApp, type CareApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { seedDemo, type DemoKeys } from '../src/demo/seed.js';
import { createLogger } from '../src/logger.js';
import { answerClientError } from '../src/http/middleware.js';

/** The databases every server test runs on: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export function databases(): Array<'pglite' | 'postgres'> {
  return process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

/** A fresh PostgreSQL database cloned from nothing, dropped on close. */
async function freshPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = new URL(process.env.TEST_DATABASE_URL!);
  const name = `carecomms_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin.toString());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface TestServer {
  url: string;
  app: CareApp;
  db: Database;
  config: Config;
  keys: DemoKeys;
  /** A session token for a demo practitioner. */
  token(practitioner?: 'dr-lee' | 'dr-patel' | 'dr-other'): Promise<string>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  /** Reuse a database (e.g. a second instance on the same PostgreSQL). */
  databaseUrl?: string;
}

/** Builds the app in-process on an ephemeral port with a throw-away, seeded database (STYLE §11). */
export async function startServer(kind: 'pglite' | 'postgres', options: TestServerOptions = {}): Promise<TestServer> {
  const pgDb = kind === 'postgres' && !options.databaseUrl ? await freshPostgres() : null;
  const config = loadConfig({
    DEMO: '1',
    SESSION_SECRET: 'test-secret-test-secret-test-secret-0123',
    LOG_LEVEL: 'silent',
    PORT: '0',
    ...options.env,
  });
  const db = await openDatabase({ url: options.databaseUrl ?? pgDb?.url ?? null, poolMax: 5 });
  await db.knex.migrate.latest();
  const app = createApp({ config, db, logger: createLogger('silent') });
  const keys = (await seedDemo(db.knex, app.repos, null)) ?? { demoClinicApiKey: '', otherClinicApiKey: '' };
  await app.start();
  const server: Server = createServer(app.koa.callback());
  server.on('clientError', answerClientError);
  // As the binary does (src/bin/server.ts): the client, not the server, ends an idle kept-alive
  // connection. With Node's 5 s default, a test whose event loop was busy for seconds (starting a
  // second PGlite server) could send on a connection the server was closing: "fetch failed".
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    app,
    db,
    config,
    keys,
    async token(practitioner = 'dr-lee') {
      const res = await fetch(`${url}/demo/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ practitioner }),
      });
      if (res.status !== 200) throw new Error(`demo session: ${res.status}`);
      return ((await res.json()) as { token: string }).token;
    },
    async close() {
      await app.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
      await pgDb?.drop();
    },
  };
}

/** fetch JSON with a bearer token; returns status, headers and parsed body. */
export async function api<T = any>(
  server: { url: string },
  path: string,
  options: { token?: string; method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(server.url + path, {
    method: options.method ?? (options.body !== undefined ? 'POST' : 'GET'),
    headers,
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** A minimal SSE reader for tests: collects events until closed. */
export async function openEvents(server: { url: string }, token: string, lastEventId?: string) {
  const controller = new AbortController();
  const res = await fetch(`${server.url}/api/v1/events`, {
    headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  const waiters: Array<() => void> = [];
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let index;
        while ((index = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, index);
          buffer = buffer.slice(index + 2);
          if (block.includes(': connected')) connected();
          const event: SseEvent = { data: '' };
          let hasData = false;
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) event.id = line.slice(4);
            else if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('data: ')) {
              event.data += line.slice(6);
              hasData = true;
            }
          }
          if (hasData) {
            events.push(event);
            waiters.splice(0).forEach((w) => w());
          }
        }
      }
    } catch {
      // aborted
    }
  })();
  await ready;
  return {
    status: res.status,
    events,
    async waitFor(predicate: (events: SseEvent[]) => boolean, ms = 5000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!predicate(events)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for events; have ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    close: () => controller.abort(),
  };
}

/** Polls `check` until it returns a truthy value (which is returned), or fails after `ms`. */
export async function waitUntil<T>(check: () => Promise<T> | T, ms = 5000, what = 'condition'): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as Exclude<T, false | null | undefined | 0 | ''>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Env for fast outbox and sandbox timings in tests. */
export const FAST_OUTBOX_ENV: Record<string, string> = {
  SANDBOX_LATENCY_MS: '20',
  OUTBOX_POLL_MS: '50',
  OUTBOX_RETRY_BASE_MS: '20',
};

export interface MockRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  form: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
}

export interface MockMessage {
  sid: string;
  to: string;
  from: string;
  body: string;
  status: string;
  date_created: string;
}

/** What the mock answers a message create with; default: created and queued. */
export type CreateBehaviour =
  | { kind: 'ok' }
  | { kind: 'error'; status: number; code?: number; retryAfter?: string }
  /** Twilio created the message but the answer is a 500: the ambiguous case. */
  | { kind: 'created-then-500' };

/**
 * A local stand-in for Twilio's REST API (the Messages resource of API
 * 2010-04-01), pointed at with TWILIO_API_URL. It records every request.
 */
export async function startTwilioMock() {
  const requests: MockRequest[] = [];
  const messages: MockMessage[] = [];
  const behaviours: CreateBehaviour[] = [];
  let counter = 0;
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const resource = (m: MockMessage, accountSid: string) => ({
    sid: m.sid,
    account_sid: accountSid,
    to: m.to,
    from: m.from,
    body: m.body,
    status: m.status,
    num_segments: '1',
    direction: 'outbound-api',
    date_created: m.date_created,
    date_updated: m.date_created,
    date_sent: null,
    error_code: null,
    error_message: null,
    uri: `/2010-04-01/Accounts/${accountSid}/Messages/${m.sid}.json`,
  });
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://mock');
      const form = new URLSearchParams(raw);
      requests.push({ method: req.method!, path: url.pathname, query: url.searchParams, form, headers: req.headers });
      const list = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\.json$/.exec(url.pathname);
      const one = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\/(SM[0-9a-f]{32})\.json$/.exec(url.pathname);
      if (list && req.method === 'POST') {
        const behaviour = behaviours.shift() ?? { kind: 'ok' };
        if (behaviour.kind === 'error') {
          return json(
            res,
            behaviour.status,
            { code: behaviour.code ?? behaviour.status * 100 + 29, message: 'mock error', more_info: 'https://www.twilio.com/docs/errors', status: behaviour.status },
            behaviour.retryAfter ? { 'retry-after': behaviour.retryAfter } : {},
          );
        }
        const message: MockMessage = {
          sid: `SM${(++counter).toString(16).padStart(32, '0')}`,
          to: form.get('To')!,
          from: form.get('From')!,
          body: form.get('Body')!,
          status: 'queued',
          date_created: new Date().toUTCString(),
        };
        messages.push(message);
        if (behaviour.kind === 'created-then-500') return json(res, 500, { code: 20500, message: 'Internal Server Error', status: 500 });
        return json(res, 201, resource(message, list[1]!));
      }
      if (list && req.method === 'GET') {
        const to = url.searchParams.get('To');
        const from = url.searchParams.get('From');
        const found = messages.filter((m) => (!to || m.to === to) && (!from || m.from === from)).reverse();
        return json(res, 200, {
          messages: found.map((m) => resource(m, list[1]!)),
          page: 0,
          page_size: Number(url.searchParams.get('PageSize') ?? 50),
          first_page_uri: url.pathname,
          next_page_uri: null,
          previous_page_uri: null,
          uri: url.pathname,
        });
      }
      if (one && req.method === 'GET') {
        const found = messages.find((m) => m.sid === one[2]);
        return found ? json(res, 200, resource(found, one[1]!)) : json(res, 404, { code: 20404, message: 'not found', status: 404 });
      }
      json(res, 404, { code: 20404, message: 'not found', status: 404 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    messages,
    /** Queue behaviours for the next message creates, in order. */
    next(...items: CreateBehaviour[]) {
      behaviours.push(...items);
    },
    creates: () => requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Messages.json')),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const TEST_TWILIO = {
  accountSid: 'AC' + '0123456789abcdef'.repeat(2),
  authToken: 'test-auth-token-0123456789',
  phoneNumber: '+61491571999',
  baseUrl: 'https://carecomms.example.com',
};

/** Env selecting the Twilio provider against a mock at `apiUrl`. */
export function twilioEnv(apiUrl: string): Record<string, string> {
  return {
    TWILIO_ACCOUNT_SID: TEST_TWILIO.accountSid,
    TWILIO_AUTH_TOKEN: TEST_TWILIO.authToken,
    TWILIO_PHONE_NUMBER: TEST_TWILIO.phoneNumber,
    TWILIO_API_URL: apiUrl,
    BASE_URL: TEST_TWILIO.baseUrl,
  };
}
