import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { parseWebhookForm, twilioSignature } from '../src/providers/twilio-signature.js';
import { api, databases, startServer, TEST_TWILIO, twilioEnv, type TestServer } from './helpers.js';
import { startTwilioWithFaults } from './twilio-faults.js';

/**
 * Malformed and hostile requests, generated from the server's own OpenAPI
 * document, for every operation it describes: none may answer 5xx, every
 * error is problem+json (or the HTML page an operation documents), and
 * nothing pollutes Object.prototype (the app runs in this process, so a
 * polluted prototype would show here).
 */

/** Runs per operation and server: ~40 operations, two servers, two databases, in well under a minute. */
const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS ?? 24);
const BODY_LIMIT = 64 * 1024;

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  nullable?: boolean;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  additionalProperties?: Schema | boolean;
  $ref?: string;
};

interface Operation {
  method: string;
  path: string;
  security: string[];
  params: Array<{ in: 'path' | 'query' | 'header'; name: string; required: boolean; schema: Schema }>;
  body: { type: string; schema: Schema } | null;
  htmlStatuses: Set<number>;
}

interface Answer {
  status: number;
  type: string;
  body: string;
}

/** Sends exactly what it is given (no URL normalisation); a streaming answer is cut after its head. */
function send(base: string, method: string, path: string, headers: Record<string, string>, body: Buffer | null): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) }, agent: false },
      (res) => {
        const type = String(res.headers['content-type'] ?? '');
        if (/event-stream/.test(type)) {
          res.destroy();
          return resolve({ status: res.statusCode!, type, body: '' });
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, type, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer in 15 s: ${method} ${path}`)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The server may stop reading a body over the limit and answer early; what it answered is what counts.
      if ((error.code === 'EPIPE' || error.code === 'ECONNRESET') && body && body.length > BODY_LIMIT) resolve({ status: 413, type: 'application/problem+json', body: '' });
      else reject(error);
    });
    if (body) req.write(body);
    req.end();
  });
}

function resolveRef(doc: any, schema: Schema): Schema {
  let s = schema;
  while (s?.$ref) s = s.$ref.split('/').slice(1).reduce((o: any, k: string) => o[k], doc);
  return s ?? {};
}

function operationsOf(doc: any): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(methods)) {
      const content = op.requestBody?.content ?? {};
      const type = Object.keys(content)[0];
      const htmlStatuses = new Set<number>();
      for (const [status, response] of Object.entries<any>(op.responses ?? {})) if (response.content?.['text/html']) htmlStatuses.add(Number(status));
      ops.push({
        method: method.toUpperCase(),
        path,
        security: (op.security ?? []).flatMap((s: object) => Object.keys(s)),
        params: (op.parameters ?? []).map((p: any) => ({ in: p.in, name: p.name, required: !!p.required, schema: resolveRef(doc, p.schema ?? {}) })),
        body: type ? { type, schema: resolveRef(doc, content[type].schema ?? {}) } : null,
        htmlStatuses,
      });
    }
  }
  return ops;
}

/** Strings no handler expects: control characters, NUL, lone surrogates, markup, traversal, huge, pollution-shaped. */
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\u0001\u0002\u001f\u007f',
    '\ud800',
    'x\udfffy',
    '\ufeff',
    '\u202e',
    '__proto__',
    'constructor',
    'prototype',
    '../../etc/passwd',
    '%00',
    '%',
    "' OR 1=1 --",
    '<script>alert(1)</script>',
    '${7*7}',
    'null',
    'NaN',
    '-1',
    '1e309',
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    '+61491570006\u0000',
  ),
  // Long, but short enough that Node's HTTP parser (16 KiB of URL and headers) hands the request to the app.
  fc.integer({ min: 1, max: 6 }).map((n) => 'A'.repeat(n * 1000)),
);

/** A JSON value of the wrong kind, whatever was expected. */
const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2, [], {}, [null], { __proto__: null }),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('a', 'length', 'toString', 'valueOf', 'then'), hostileString, { maxKeys: 2 }),
);

/** Something close to what the schema asks for, so requests get past the first check. */
function plausible(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const choices = schema.anyOf ?? schema.oneOf;
  if (choices?.length) return fc.oneof(...choices.map((c) => plausible(c, depth)));
  if (schema.enum?.length) return fc.constantFrom(...schema.enum);
  const type = types.find((t) => t !== 'null') ?? (schema.properties ? 'object' : 'string');
  switch (type) {
    case 'object': {
      if (depth > 3 || !schema.properties) return fc.constant({});
      const required = new Set(schema.required ?? []);
      const shape: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, value] of Object.entries(schema.properties)) shape[key] = plausible(value, depth + 1);
      return fc.record(shape, { requiredKeys: Object.keys(shape).filter((k) => required.has(k)) });
    }
    case 'array':
      return fc.array(plausible(schema.items ?? {}, depth + 1), { maxLength: 3 });
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -5, max: schema.maximum ?? 100_000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -5, max: schema.maximum ?? 100_000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    default:
      if (schema.format === 'uuid') return fc.uuid();
      if (schema.format === 'email') return fc.constantFrom('a@example.com', 'x@y.z');
      if (schema.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length >= (schema.minLength ?? 0) && s.length <= (schema.maxLength ?? 200));
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) });
  }
}

/** A value from the schema with, now and then, a hostile value or a pollution-shaped key somewhere inside. */
function mutated(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if ((types.includes('object') || schema.properties) && schema.properties && depth < 3) {
    const shape: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [key, value] of Object.entries(schema.properties)) shape[key] = mutated(value, depth + 1);
    return fc.record(shape, { requiredKeys: [] });
  }
  return fc.oneof({ weight: 2, arbitrary: plausible(schema, depth) }, { weight: 1, arbitrary: hostileJson });
}

/** Inserts own `__proto__` / `constructor.prototype` keys into a JSON object text, as an attacker would send them. */
const POLLUTION = [
  '"__proto__":{"polluted":"yes","isAdmin":true}',
  '"constructor":{"prototype":{"polluted":"yes"}}',
  '"__proto__":{"toString":"x","hasOwnProperty":"x"}',
];
function withPollution(json: string, index: number): string {
  const key = POLLUTION[index % POLLUTION.length]!;
  return json.startsWith('{') ? `{${key}${json.length > 2 ? ',' : ''}${json.slice(1)}` : json;
}

const BAD_JSON = [
  '',
  '{',
  '{"body":',
  "{'body':'x'}",
  '{"body":"x",}',
  'NaN',
  'undefined',
  '\ufeff{"body":"x"}',
  '[' .repeat(5000) + ']'.repeat(5000),
  '{"a":'.repeat(3000) + '1' + '}'.repeat(3000),
  '"just a string"',
  '12345678901234567890123456789',
  'null',
  '[]',
  '{"body":"\\ud800"}',
  '{"body":"\\u0000"}',
];

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/vnd.api+json',
  '*/*',
  '',
];

/** Fields Twilio's webhooks carry, and values they take: signed, so hostile values reach the handlers. */
const TWILIO_FIELDS = [
  'AccountSid', 'MessageSid', 'SmsSid', 'MessageStatus', 'SmsStatus', 'ErrorCode', 'From', 'To', 'Body', 'NumMedia',
  'CallSid', 'CallStatus', 'CallDuration', 'Direction', 'ParentCallSid', 'StatusCallbackEvent', 'ConferenceSid',
  'FriendlyName', 'SequenceNumber', 'Timestamp', 'Hold', 'Muted', 'RecordingSid', 'RecordingStatus', 'RecordingDuration',
  'RecordingUrl', 'RoomSid', 'RoomName', 'RoomStatus', 'ParticipantIdentity', 'ParticipantStatus', 'ParticipantDuration',
  'Caller', 'Called', 'callId', 'Duration',
];
const TWILIO_VALUES = [
  'delivered', 'failed', 'undelivered', 'sent', 'queued', 'received', 'completed', 'in-progress', 'ringing', 'busy', 'no-answer',
  'participant-join', 'participant-leave', 'conference-end', 'conference-start', 'participant-hold', 'room-ended', 'participant-connected',
  'SM' + 'a'.repeat(32), 'CA' + 'b'.repeat(32), 'CF' + 'c'.repeat(32), 'RE' + 'd'.repeat(32), 'RM' + 'e'.repeat(32),
  TEST_TWILIO.accountSid, '+61491570006', '+61491571266', 'client:clinician-0123456789abcdef', '30003', '21610', '-5', '99999999999999999999',
  'Mon, 01 Jan 2026 00:00:00 +0000', 'true', 'false', 'STOP', 'START', 'HELP',
];

/** What every Twilio webhook carries, from a patient's phone to the clinic's number. */
const PLAUSIBLE_WEBHOOK: Record<string, string> = {
  AccountSid: TEST_TWILIO.accountSid,
  MessageSid: 'SM' + '1'.repeat(32),
  From: '+61491570006',
  To: '+61491571266',
  Body: 'Running late',
  CallSid: 'CA' + '2'.repeat(32),
};

/** Percent-encodes any string, lone surrogates too (as their WTF-8 bytes, which is what arrives on the wire). */
function encodeHostile(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    else out += encodeURIComponent(char);
  }
  return out;
}

type Auth = 'valid' | 'none' | 'garbage' | 'other-kind';

function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? 'x');
}

interface Fixture {
  server: TestServer;
  twilio: boolean;
  /** Valid values for path parameters, by operation path prefix. */
  ids: { patient: string; phone: string; call: string; visit: string; joinToken: string; externalId: string };
  tokens: Record<string, string>;
}

function validId(fixture: Fixture, path: string, name: string): string {
  if (name === 'externalId') return fixture.ids.externalId;
  if (name === 'token') return fixture.ids.joinToken;
  if (path.includes('/patients/')) return fixture.ids.patient;
  if (path.includes('/calls/')) return fixture.ids.call;
  if (path.includes('/video-visits/')) return fixture.ids.visit;
  return fixture.ids.patient;
}

function authHeader(fixture: Fixture, op: Operation, auth: Auth): Record<string, string> {
  if (auth === 'none') return {};
  if (auth === 'garbage') return { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' };
  const kinds = op.security.length ? op.security : ['session'];
  const kind = auth === 'valid' ? kinds[0]! : kinds[0] === 'apiKey' ? 'session' : 'apiKey';
  return { authorization: `Bearer ${fixture.tokens[kind] ?? fixture.tokens.session}` };
}

/** One generated request for `op`. */
function requestFor(op: Operation, valid: Record<string, string>) {
  const pathValue = fc.oneof({ weight: 3, arbitrary: fc.constant<null>(null) }, { weight: 2, arbitrary: hostileString });
  const queryValue = fc.oneof(
    { weight: 1, arbitrary: fc.constant<undefined>(undefined) },
    { weight: 2, arbitrary: hostileString.map((s) => s.slice(0, 2000)) },
    { weight: 1, arbitrary: fc.constantFrom('eyJ0IjoiMjAyNi0wMS0wMSIsImkiOiJ4In0', 'not-a-cursor', 'e30', '!!!', 'AAAA', '-1', '0', '101', '1.5') },
    { weight: 1, arbitrary: fc.array(hostileString.map((s) => s.slice(0, 200)), { minLength: 2, maxLength: 3 }) },
  );
  const query = fc.record(
    Object.fromEntries(
      op.params
        .filter((p) => p.in === 'query')
        .map((p) => [
          p.name,
          fc.oneof(
            { weight: 2, arbitrary: valid[p.name] ? fc.constant(valid[p.name]!) : plausible(p.schema).map((v) => String(v)) },
            { weight: 3, arbitrary: queryValue },
          ),
        ]),
    ),
    { requiredKeys: [] },
  );
  const extraQuery = fc.constantFrom('', '', '', '', '__proto__[polluted]=yes', 'constructor[prototype][polluted]=yes', 'a[b][c][d][e]=1', '%ZZ=%', '=', '&&&');
  const body = op.body
    ? fc.oneof(
        { weight: 4, arbitrary: plausible(op.body.schema).map((v) => ({ kind: 'json' as const, text: JSON.stringify(v) })) },
        { weight: 4, arbitrary: mutated(op.body.schema).map((v) => ({ kind: 'json' as const, text: JSON.stringify(v) ?? 'null' })) },
        { weight: 2, arbitrary: fc.tuple(plausible(op.body.schema), fc.nat()).map(([v, i]) => ({ kind: 'json' as const, text: withPollution(JSON.stringify(v), i) })) },
        { weight: 2, arbitrary: fc.constantFrom(...BAD_JSON).map((text) => ({ kind: 'json' as const, text })) },
        { weight: 1, arbitrary: fc.constantFrom(BODY_LIMIT + 10, 4 * BODY_LIMIT).map((n) => ({ kind: 'json' as const, text: `{"body":"${'x'.repeat(n)}"}` })) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ kind: 'bytes' as const, bytes: Buffer.from(bytes) })) },
      )
    : fc.oneof(
        { weight: 3, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.constantFrom(...BAD_JSON.slice(0, 6)).map((text) => ({ kind: 'json' as const, text })) },
        { weight: 1, arbitrary: fc.constant({ kind: 'json' as const, text: withPollution('{}', 0) }) },
      );
  const contentType = fc.oneof({ weight: 4, arbitrary: fc.constant(op.body?.type ?? 'application/json') }, { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) });
  const headerValue = fc.oneof(
    fc.uuid(),
    fc.constantFrom('', ' ', 'x'.repeat(300), 'x'.repeat(4000), '\u00ff\u00fe', '"quoted"', 'a,b', '__proto__', '-1', '0', 'bytes=0-', 'bytes=5-1', 'bytes=-', 'bytes=0-0,1-1,2-2', 'bytes=99999999999999999999-'),
    // Header values are bytes 0x20–0xFF (and tab): anything else the HTTP layer refuses before the app sees it.
    fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?')),
  );
  return fc.record({
    auth: fc.constantFrom<Auth>('valid', 'valid', 'valid', 'none', 'garbage', 'other-kind'),
    path: fc.dictionary(fc.constantFrom(...(op.params.filter((p) => p.in === 'path').map((p) => p.name).concat('_'))), pathValue),
    query,
    extraQuery,
    body,
    contentType,
    idempotencyKey: fc.option(headerValue),
    lastEventId: fc.option(headerValue),
    range: fc.option(headerValue),
    signed: fc.boolean(),
    form: fc
      .tuple(
        // A plausible webhook first (so handlers get past "required field missing"), then hostile overrides.
        fc.record(Object.fromEntries(TWILIO_FIELDS.map((f) => [f, fc.constantFrom(...TWILIO_VALUES)])), { requiredKeys: [] }),
        fc.dictionary(fc.constantFrom(...TWILIO_FIELDS, '__proto__', 'constructor'), hostileString.map((s) => s.slice(0, 2000)), { maxKeys: 4 }),
      )
      .map(([base, hostile]) => ({ ...PLAUSIBLE_WEBHOOK, ...base, ...hostile })),
  });
}

async function fuzzOperation(fixture: Fixture, op: Operation, runs: number) {
  const failures: string[] = [];
  const result = await fc.check(
    fc.asyncProperty(requestFor(op, { phone: fixture.ids.phone, patientId: fixture.ids.patient }), async (input) => {
      const pathValues: Record<string, string> = {};
      for (const p of op.params.filter((x) => x.in === 'path')) {
        const hostile = input.path[p.name];
        pathValues[p.name] = encodeHostile(hostile ?? validId(fixture, op.path, p.name));
      }
      const search = new URLSearchParams();
      for (const [name, value] of Object.entries(input.query)) {
        if (value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) search.append(name, v);
      }
      const qs = [search.toString(), input.extraQuery].filter(Boolean).join('&');
      const path = fillPath(op.path, pathValues) + (qs ? `?${qs}` : '');
      const headers: Record<string, string> = { ...authHeader(fixture, op, input.auth), connection: 'close' };
      if (input.idempotencyKey !== null) headers['idempotency-key'] = input.idempotencyKey;
      if (input.lastEventId !== null) headers['last-event-id'] = input.lastEventId;
      if (input.range !== null) headers.range = input.range;
      let body: Buffer | null = null;
      if (input.body) {
        body = input.body.kind === 'bytes' ? input.body.bytes : Buffer.from(input.body.text, 'utf8');
        if (input.contentType) headers['content-type'] = input.contentType;
      }
      if (op.path.startsWith('/webhooks/')) {
        // Form bodies, signed as Twilio would (or not): hostile values reach the handlers.
        const form = new URLSearchParams();
        for (const [k, v] of Object.entries(input.form)) form.append(k, String(v));
        const raw = input.signed ? form.toString() : body?.toString('latin1') ?? '';
        body = Buffer.from(raw, input.signed ? 'utf8' : 'latin1');
        headers['content-type'] = input.signed ? 'application/x-www-form-urlencoded' : input.contentType;
        if (!headers['content-type']) delete headers['content-type'];
        const webhookPath = `${op.path}?ref=${encodeHostile(input.path._ ?? fixture.ids.call)}${input.extraQuery ? `&${input.extraQuery}` : ''}`;
        headers['x-twilio-signature'] = twilioSignature(TEST_TWILIO.authToken, TEST_TWILIO.baseUrl + webhookPath, parseWebhookForm(raw));
        const answer = await send(fixture.server.url, op.method, webhookPath, headers, body);
        check(op, answer, `${op.method} ${webhookPath} ${raw.slice(0, 200)}`, failures);
        return;
      }
      const answer = await send(fixture.server.url, op.method, path, headers, body);
      check(op, answer, `${op.method} ${path.slice(0, 300)} auth=${input.auth} type=${headers['content-type']} body=${body?.toString('utf8').slice(0, 200)}`, failures);
    }),
    { numRuns: runs, endOnFailure: true },
  );
  // Report the request that failed, not fast-check's (possibly megabyte-long) counterexample.
  if (result.failed) {
    const reason = failures.length ? failures.join('\n') : String((result.errorInstance as Error | undefined)?.message ?? 'failed').slice(0, 1000);
    assert.fail(`${op.method} ${op.path} (seed ${result.seed}, path ${result.counterexamplePath}):\n${reason}`);
  }
}

/** Answers by operation and status: shows the fuzzing got past authentication and validation, not only bounced off them. */
const seenStatuses = new Map<string, Map<number, number>>();

function check(op: Operation, answer: Answer, what: string, failures: string[]) {
  const key = `${op.method} ${op.path}`;
  if (!seenStatuses.has(key)) seenStatuses.set(key, new Map());
  seenStatuses.get(key)!.set(answer.status, (seenStatuses.get(key)!.get(answer.status) ?? 0) + 1);
  what = what.length > 600 ? `${what.slice(0, 600)}…` : what;
  if (answer.status >= 500) failures.push(`${answer.status} for ${what}: ${answer.body.slice(0, 300)}`);
  else if (answer.status >= 400) {
    const html = op.htmlStatuses.has(answer.status) && /^text\/html/.test(answer.type);
    if (!html && !/^application\/problem\+json/.test(answer.type)) failures.push(`${answer.status} as "${answer.type}" for ${what}`);
    if (!html && answer.body) {
      const problem = JSON.parse(answer.body) as { status?: number; code?: string };
      if (problem.status !== answer.status || typeof problem.code !== 'string') failures.push(`malformed problem ${answer.body.slice(0, 200)} for ${what}`);
    }
  }
  assertNotPolluted();
  if (failures.length) assert.fail(failures.join('\n'));
}

function assertNotPolluted() {
  const probe = {} as Record<string, unknown>;
  assert.equal(probe.polluted, undefined, 'Object.prototype was polluted');
  assert.equal(probe.isAdmin, undefined, 'Object.prototype was polluted');
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_KEYS, 'Object.prototype gained or lost a key');
  assert.equal(typeof probe.toString, 'function');
  assert.equal(typeof probe.hasOwnProperty, 'function');
}
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

async function fixtureFor(server: TestServer, twilio: boolean): Promise<Fixture> {
  const lee = await server.token('dr-lee');
  const patients = (await api(server, '/api/v1/patients', { token: lee })).body.items as Array<{ id: string; phone: string | null; externalId: string }>;
  const patient = patients.find((p) => p.phone)!;
  const call = await api(server, `/api/v1/patients/${patient.id}/calls`, { token: lee, body: {} });
  assert.equal(call.status, 201, JSON.stringify(call.body));
  const visit = await api(server, `/api/v1/patients/${patient.id}/video-visits`, { token: lee, body: {} });
  assert.equal(visit.status, 201, JSON.stringify(visit.body));
  const joinToken = decodeURIComponent(new URL(visit.body.joinUrl).pathname.split('/').pop()!);
  return {
    server,
    twilio,
    ids: { patient: patient.id, phone: patient.phone!, call: call.body.id, visit: visit.body.id, joinToken, externalId: patient.externalId },
    tokens: { session: lee, apiKey: server.keys.demoClinicApiKey, callSeat: call.body.token, videoSeat: visit.body.token },
  };
}

const LIMITS = { JOIN_RATE_LIMIT_PER_MINUTE: '10000', SESSION_RATE_LIMIT_PER_MINUTE: '100000', SANDBOX_LATENCY_MS: '50' };

for (const kind of databases()) {
  for (const mode of ['sandbox', 'twilio'] as const) {
    describe(`hostile requests on every operation (${kind}, ${mode})`, () => {
      let fixture: Fixture;
      let mock: Awaited<ReturnType<typeof startTwilioWithFaults>> | null = null;
      let ops: Operation[] = [];
      before(async () => {
        mock = mode === 'twilio' ? await startTwilioWithFaults() : null;
        const env = mock ? { ...LIMITS, ...twilioEnv(mock.url), TWILIO_TWIML_APP_SID: 'AP' + 'c'.repeat(32) } : LIMITS;
        const server = await startServer(kind, { env });
        fixture = await fixtureFor(server, mode === 'twilio');
        const doc = (await api(server, '/api/v1/openapi.json')).body;
        // Operations that end a call or visit go last, so the others meet it still live.
        const ending = (op: Operation) => /\/(end|hangup|decline)$/.test(op.path);
        ops = operationsOf(doc).sort((a, b) => Number(ending(a)) - Number(ending(b)));
      });
      after(async () => {
        await fixture?.server.close();
        await mock?.close();
      });

      test('the document describes the operations to fuzz', () => {
        assert.ok(ops.length >= 30, `${ops.length} operations`);
        if (mode === 'twilio') assert.ok(ops.some((op) => op.path === '/webhooks/twilio/sms-inbound'));
        else assert.ok(ops.some((op) => op.path === '/sandbox/api/sms'));
      });

      test('no operation answers 5xx, every error is problem+json, Object.prototype stays clean', async () => {
        // Sandbox operations exist only in the sandbox, webhooks only with Twilio; each server is fuzzed on its own document.
        seenStatuses.clear();
        for (const op of ops) await fuzzOperation(fixture, op, RUNS_PER_OPERATION);
        if (process.env.FUZZ_DEBUG) for (const [key, counts] of seenStatuses) console.log(key, JSON.stringify(Object.fromEntries(counts)));
        // Most operations must have been reached with a request they accepted, not only refused ones.
        const accepted = [...seenStatuses.values()].filter((counts) => [...counts.keys()].some((status) => status < 400)).length;
        assert.ok(accepted >= ops.length * 0.5, `only ${accepted} of ${ops.length} operations ever answered 2xx/3xx`);
      });

      test('methods and paths no operation has: problem+json, never 5xx', async () => {
        for (const [method, path] of [
          ['DELETE', '/api/v1/patients'],
          ['PUT', '/api/v1/session'],
          ['TRACE', '/api/v1/patients'],
          ['PATCH', '/demo/session'],
          ['GET', '/api/v1/%ZZ'],
          ['GET', '/api/v1/patients/%C0%AF'],
          ['GET', '/api/v1/patients/%ED%A0%80'],
          ['POST', '/api/v1/patients/%00/messages'],
          ['GET', '/api/v1/../../etc/passwd'],
          ['GET', '/api/v1/correspondence?patientId[__proto__]=x&cursor[]=1'],
          ['GET', '/' + 'a'.repeat(4000)],
        ] as const) {
          const answer = await send(fixture.server.url, method, path, { authorization: `Bearer ${fixture.tokens.session}`, connection: 'close' }, null);
          assert.ok(answer.status < 500, `${method} ${path}: ${answer.status}`);
          if (answer.status >= 400) assert.match(answer.type, /^application\/problem\+json/, `${method} ${path}: ${answer.status} ${answer.type}`);
        }
        assertNotPolluted();
      });

      test('requests Node’s HTTP parser refuses (oversized, not HTTP) are answered as problem+json too', async () => {
        const oversized = await send(fixture.server.url, 'GET', `/api/v1/patients?q=${'A'.repeat(20_000)}`, { connection: 'close' }, null);
        assert.equal(oversized.status, 431);
        assert.match(oversized.type, /^application\/problem\+json/);
        assert.equal(JSON.parse(oversized.body).status, 431);
        for (const raw of ['GET /api/v1/patients\u0000 HTTP/1.1\r\nHost: x\r\n\r\n', 'NOT HTTP AT ALL\r\n\r\n', 'GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n']) {
          const answer = await rawRequest(fixture.server.url, raw);
          assert.match(answer, /^HTTP\/1\.1 400 /, JSON.stringify(raw));
          assert.match(answer, /content-type: application\/problem\+json/i);
          assert.equal(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).code, 'bad_request');
        }
      });
    });
  }
}

/** Writes bytes to the server as they are and reads the whole answer. */
function rawRequest(base: string, raw: string): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.end(raw));
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString('utf8')));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
  });
}
