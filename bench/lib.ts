import diagnostics from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** Requests sent, warm-up included. */
  sent: number;
  /** When the measured run began, after the warm-up: milliseconds since the epoch (`performance.timeOrigin + performance.now()`). */
  measuredFrom: number;
}

/** A request shape for {@link load}: `setupRequest` is the path of a CommonJS module exporting autocannon's per-request function. */
export interface LoadRequest {
  method?: 'GET' | 'POST';
  path?: string;
  setupRequest?: string;
}

/**
 * Runs autocannon against one URL for `seconds`, after `warmupSeconds` unmeasured (JIT, connection pools and
 * prepared statements warm up); returns throughput and latency percentiles (ms). The load comes from a process of
 * its own (bench/load-generator.mjs), as a client's would, not from the server's (bare baseline or app, both in this
 * process), and that one process runs the warm-up and then the measured run: an autocannon worker thread made
 * afresh for each compiled its code and loaded its modules during the measured run's first second, on the cores the
 * server uses (measured on signed webhooks, alternating 3 times: about 12 % more webhooks a second and p99 38 → 31 ms).
 */
export async function load(
  url: string,
  options: { connections?: number; seconds?: number; warmupSeconds?: number; headers?: Record<string, string>; requests?: LoadRequest[]; method?: 'GET' | 'POST' } = {},
): Promise<LoadResult> {
  const settings = {
    url,
    connections: options.connections ?? 10,
    duration: options.seconds ?? 8,
    warmupSeconds: options.warmupSeconds ?? 0,
    headers: options.headers,
    ...(options.method ? { method: options.method } : {}),
    ...(options.requests ? { requests: options.requests } : {}),
  };
  return generate<LoadResult>('./load-generator.mjs', 'BENCH_LOAD', settings);
}

/** Runs a load generator (`script`, next to this file) in a process of its own, its settings as JSON in `variable`; returns the figures it prints. */
async function generate<T>(script: string, variable: string, settings: { url: string }): Promise<T> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(script, import.meta.url))], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, [variable]: JSON.stringify(settings) },
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`${script} exited with ${code} against ${settings.url}`);
  return JSON.parse(out) as T;
}

/** What {@link pacedLoad} measured: latency percentiles (ms) from each request's due time, and the rate achieved. */
export interface PacedResult extends LoadResult {
  max: number;
}

/**
 * Offers `rate` requests a second over `connections` keep-alive connections, evenly paced (open loop), for
 * `seconds` after `warmupSeconds` unmeasured, from a process of its own (bench/paced-load.mjs); latency is from
 * each request's due time, so a request held back behind a slow one is charged the wait. This is latency at a
 * given load; {@link load} (closed loop) measures capacity, where latency at saturation is connections ÷ throughput.
 */
export async function pacedLoad(
  url: string,
  options: { connections: number; rate: number; seconds?: number; warmupSeconds?: number; request: LoadRequest },
): Promise<PacedResult> {
  const settings = { url, connections: options.connections, rate: options.rate, seconds: options.seconds ?? 8, warmupSeconds: options.warmupSeconds ?? 0, request: options.request };
  return generate<PacedResult>('./paced-load.mjs', 'BENCH_PACED', settings);
}

/** The baseline every HTTP figure is compared with: a bare node:http JSON hello. */
export async function bareServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const body = JSON.stringify({ hello: 'world' });
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * What the database allows on this machine, whatever the framework: a bare
 * node:http server whose handler runs SQL statements the app ran (captured
 * from knex's `query` event: same text, same bindings, prepared, one after the
 * other) on its own pg pool and answers the last one's rows as JSON. No
 * routing, auth, validation or mapping. `vary` rewrites the bindings for the
 * n-th request (e.g. a fresh MessageSid where the app would refuse a repeat).
 */
export async function bareSqlServer(
  databaseUrl: string,
  statements: Array<{ sql: string; bindings: readonly unknown[] }>,
  options: { poolMax?: number; vary?: (bindings: readonly unknown[], n: number) => unknown[] } = {},
): Promise<{ url: string; close: () => Promise<void> }> {
  const pg = (await import('pg')).default;
  // Sessions set as the app's are (server/src/db/database.ts: JIT off).
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.poolMax ?? 10, options: '-c jit=off' });
  const queries = statements.map((statement, i) => {
    let n = 0;
    return { name: `bare_sql_${i}`, text: statement.sql.replace(/\?/g, () => `$${++n}`), bindings: statement.bindings };
  });
  let requests = 0;
  const run = async () => {
    const n = ++requests;
    let rows: unknown[] = [];
    for (const q of queries) {
      rows = (await pool.query({ name: q.name, text: q.text, values: options.vary ? options.vary(q.bindings, n) : [...q.bindings] })).rows;
    }
    return rows;
  };
  const server: Server = createServer((_req, res) => {
    run().then(
      (rows) => {
        const body = JSON.stringify(rows);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}

/** The SQL statements `run` makes the app send through knex, in order. */
export async function capturedStatements(knex: import('knex').Knex, run: () => Promise<unknown>): Promise<Array<{ sql: string; bindings: readonly unknown[] }>> {
  const seen: Array<{ sql: string; bindings: readonly unknown[] }> = [];
  const onQuery = (q: { sql: string; bindings?: readonly unknown[] }) => seen.push({ sql: q.sql, bindings: q.bindings ?? [] });
  knex.on('query', onQuery);
  try {
    await run();
  } finally {
    knex.off('query', onQuery);
  }
  return seen;
}

export function machine(): string {
  return `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** A fresh PostgreSQL database for one benchmark, dropped afterwards unless BENCH_KEEP=1. */
export async function benchDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const { randomBytes } = await import('node:crypto');
  const pg = (await import('pg')).default;
  const name = `carecomms_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  // Flush what earlier work (e.g. the previous benchmark's dropped database) left dirty, so its writes do not land in this measurement.
  await admin.query('CHECKPOINT');
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      if (process.env.BENCH_KEEP) console.log(`kept database ${name}`);
      else await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/**
 * Brings a freshly seeded benchmark database to the state of a running clinic's before measuring: statistics
 * gathered (VACUUM ANALYZE, as autovacuum does within a minute of a table's growth; it is off on this machine's
 * PostgreSQL), and a CHECKPOINT, which recycles the WAL files the seeding filled as the next ones to write. On a
 * cluster started fresh, without it, a load that fills a WAL file waits while PostgreSQL creates and zero-fills the
 * next 16 MiB one: measured on signed webhooks at 1,166/s, a statement stalled 85–100 ms, once in one paced run of
 * three, and that run's p99 went from about 25 ms to 60.
 */
export async function settle(knex: import('knex').Knex): Promise<void> {
  await knex.raw('VACUUM ANALYZE');
  await knex.raw('CHECKPOINT');
}

export const BENCH_ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** One line of bench/RESULTS.md's table. */
export interface Figure {
  what: string;
  /** The baseline measured in the same run, as text (e.g. "bare node:http 31,000 req/s"), or "—". */
  baseline: string;
  /** The measured figure, as text. */
  figure: string;
  /** figure ÷ baseline, as text, or "—". */
  ratio: string;
  /** The target from issue 8 / 9, as text, or "—" (reported only). */
  target: string;
  /** Whether the target was met; null when there is no target. */
  met: boolean | null;
}

/** What each benchmark returns; bench/report.ts writes one section per result. */
export interface Section {
  title: string;
  figures: Figure[];
  notes: string[];
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * Times each answer of this process's HTTP servers from its request's headers
 * parsed to its answer sent (Node's http diagnostics channels): the server's
 * own queueing and work, without the load generator's thread or the bytes
 * still waiting in a socket for the server to read them.
 */
export function serverTimings(): { stop(): Array<{ at: number; ms: number }> } {
  const started = new WeakMap<object, number>();
  const timings: Array<{ at: number; ms: number }> = [];
  const onStart = (message: unknown) => started.set((message as { response: object }).response, performance.now());
  const onFinish = (message: unknown) => {
    const at = performance.now();
    const start = started.get((message as { response: object }).response);
    if (start !== undefined) timings.push({ at, ms: at - start });
  };
  diagnostics.subscribe('http.server.request.start', onStart);
  diagnostics.subscribe('http.server.response.finish', onFinish);
  return {
    stop() {
      diagnostics.unsubscribe('http.server.request.start', onStart);
      diagnostics.unsubscribe('http.server.response.finish', onFinish);
      return timings;
    },
  };
}

export const reqs = (r: LoadResult) => `${fmt(r.requestsPerSecond)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms${r.errors + r.non2xx ? `, ${r.errors + r.non2xx} errors` : ''}`;

/** Percentile (0–100) of a list of numbers, nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Resident set size of a process, in MiB, from /proc. */
export function rssMiB(pid: number = process.pid): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

export interface MockTwilio {
  url: string;
  /** Messages created, in order (To, Body, StatusCallback). */
  messages: Array<{ sid: string; to: string; from: string; body: string; statusCallback: string | null; at: number }>;
  roomsCreated: () => number;
  close(): Promise<void>;
}

/**
 * A lean local stand-in for the parts of Twilio's REST API the benchmarks
 * reach: Messages (create, list — the outbox asks it after a crash whether a
 * send got through) and Video Rooms (create, update). Never Twilio itself.
 */
export async function twilioMock(): Promise<MockTwilio> {
  const messages: MockTwilio['messages'] = [];
  let rooms = 0;
  let counter = 0;
  const sid = (prefix: string) => `${prefix}${(++counter).toString(16).padStart(32, '0')}`;
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://mock');
      const form = new URLSearchParams(raw);
      const send = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      const account = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages(?:\.json|\/SM[0-9a-f]{32}\.json)$/.exec(url.pathname)?.[1];
      const listPath = /\/Messages\.json$/.test(url.pathname);
      const message = (m: MockTwilio['messages'][number]) => ({
        sid: m.sid, account_sid: account, to: m.to, from: m.from, body: m.body, status: 'queued', num_segments: '1', direction: 'outbound-api',
        date_created: new Date(m.at).toUTCString(), date_updated: new Date(m.at).toUTCString(), date_sent: null, error_code: null, error_message: null,
        uri: `/2010-04-01/Accounts/${account}/Messages/${m.sid}.json`,
      });
      if (account && listPath && req.method === 'POST') {
        const m = { sid: sid('SM'), to: form.get('To') ?? '', from: form.get('From') ?? '', body: form.get('Body') ?? '', statusCallback: form.get('StatusCallback'), at: Date.now() };
        messages.push(m);
        return send(201, message(m));
      }
      if (account && listPath && req.method === 'GET') {
        const to = url.searchParams.get('To');
        const from = url.searchParams.get('From');
        const found = messages.filter((m) => (!to || m.to === to) && (!from || m.from === from)).reverse().slice(0, Number(url.searchParams.get('PageSize') ?? 50));
        return send(200, { messages: found.map(message), page: 0, page_size: found.length, first_page_uri: url.pathname, next_page_uri: null, previous_page_uri: null, uri: url.pathname });
      }
      const one = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\/(SM[0-9a-f]{32})\.json$/.exec(url.pathname);
      if (one && req.method === 'GET') {
        const found = messages.find((m) => m.sid === one[2]);
        return found ? send(200, message(found)) : send(404, { code: 20404, message: 'not found', status: 404 });
      }
      if (req.method === 'POST' && url.pathname === '/v1/Rooms') {
        rooms += 1;
        return send(201, { sid: sid('RM'), unique_name: form.get('UniqueName'), status: 'in-progress', type: 'group', max_participants: 2 });
      }
      const room = /^\/v1\/Rooms\/(RM[0-9a-f]{32})$/.exec(url.pathname);
      if (req.method === 'POST' && room) return send(200, { sid: room[1], status: form.get('Status') ?? 'in-progress', type: 'group' });
      send(404, { code: 20404, message: 'not found', status: 404 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    messages,
    roomsCreated: () => rooms,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Twilio settings pointing the server at a local mock (never Twilio itself). */
export const BENCH_TWILIO = {
  accountSid: 'AC' + 'b'.repeat(32),
  authToken: 'bench-auth-token-0123456789abcdef',
  phoneNumber: '+61491571266',
  baseUrl: 'https://carecomms.example.com',
};
export function twilioBenchEnv(apiUrl: string): Record<string, string> {
  return {
    TWILIO_ACCOUNT_SID: BENCH_TWILIO.accountSid,
    TWILIO_AUTH_TOKEN: BENCH_TWILIO.authToken,
    TWILIO_PHONE_NUMBER: BENCH_TWILIO.phoneNumber,
    TWILIO_TWIML_APP_SID: 'AP' + 'c'.repeat(32),
    TWILIO_API_URL: apiUrl,
    BASE_URL: BENCH_TWILIO.baseUrl,
  };
}

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface BenchApp {
  url: string;
  app: import('../server/src/app.js').CareApp;
  db: import('../server/src/db/database.js').Database;
  close(): Promise<void>;
}

/**
 * The app in this process on an ephemeral port, on a fresh migrated and
 * demo-seeded database (PostgreSQL at `databaseUrl`), as the server tests build it.
 */
export async function benchApp(
  databaseUrl: string,
  env: Record<string, string> = {},
  options: { poolMax?: number; seed?: boolean; beforeStart?: (db: import('../server/src/db/database.js').Database) => Promise<void> } = {},
): Promise<BenchApp> {
  const { createApp } = await import('../server/src/app.js');
  const { loadConfig } = await import('../server/src/config.js');
  const { openDatabase } = await import('../server/src/db/database.js');
  const { seedDemo } = await import('../server/src/demo/seed.js');
  const { createLogger } = await import('../server/src/logger.js');
  const db = await openDatabase({ url: databaseUrl, poolMax: options.poolMax ?? 10 });
  await db.knex.migrate.latest();
  const config = loadConfig({ DEMO: '1', SESSION_SECRET: 'bench-secret-bench-secret-bench-secret', LOG_LEVEL: 'silent', ...env });
  const app = createApp({ config, db, logger: createLogger('silent') });
  if (options.seed !== false) await seedDemo(db.knex, app.repos, null);
  await options.beforeStart?.(db);
  await app.start();
  const server: Server = createServer(app.koa.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    app,
    db,
    async close() {
      await app.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    },
  };
}

/** A demo practitioner's session token from the demo endpoint. */
export async function demoToken(url: string, practitioner = 'dr-lee'): Promise<string> {
  const res = await fetch(`${url}/demo/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ practitioner }) });
  if (!res.ok) throw new Error(`demo session: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}
