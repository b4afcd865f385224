import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { api, FAST_OUTBOX_ENV, startServer, TEST_TWILIO, twilioEnv, waitUntil, type TestServer } from './helpers.js';
import { twilioSignature } from '../src/providers/twilio-signature.js';

/**
 * Twilio contract: every REST call the server makes is checked against
 * Twilio's own OpenAPI description, served by Prism in error mode (a request
 * the description rejects gets 422). The documents come from the npm package
 * @twilio-alpha/mcp (twilio-oai/spec/json). A router in front sends each path
 * to the Prism that serves its API, and records what Prism answered.
 */
const require = createRequire(import.meta.url);
const specDir = path.join(path.dirname(require.resolve('@twilio-alpha/mcp/package.json')), 'twilio-oai/spec/json');
const prismBin = require.resolve('@stoplight/prism-cli/dist/index.js');

const SPECS: Array<{ prefix: RegExp; file: string }> = [
  { prefix: /^\/2010-04-01\//, file: 'twilio_api_v2010.json' },
  { prefix: /^\/v1\/(Rooms|Compositions)/, file: 'twilio_video_v1.json' },
];

interface Exchange {
  method: string;
  path: string;
  status: number;
  body: string;
}

/**
 * Every Twilio REST call the server makes, as its source writes it (the
 * twilio client's resource chain, or a raw fetch), and the operation of
 * Twilio's description it must satisfy. A call in the providers' source that
 * is not listed here fails the test, and so does a listed one the tests below
 * do not exercise against Prism.
 */
const REST_CALLS: Record<string, { method: string; path: RegExp }> = {
  'messages.create': { method: 'POST', path: /^\/2010-04-01\/Accounts\/AC[0-9a-f]{32}\/Messages\.json$/ },
  'messages(…).fetch': { method: 'GET', path: /^\/2010-04-01\/Accounts\/AC[0-9a-f]{32}\/Messages\/SM[0-9a-f]{32}\.json$/ },
  'messages.list': { method: 'GET', path: /^\/2010-04-01\/Accounts\/AC[0-9a-f]{32}\/Messages\.json\?/ },
  'conferences(…).participants.create': { method: 'POST', path: /^\/2010-04-01\/Accounts\/AC[0-9a-f]{32}\/Conferences\/call-[0-9a-f]{32}\/Participants\.json$/ },
  'conferences(…).participants(…).update': { method: 'POST', path: /^\/2010-04-01\/Accounts\/AC[0-9a-f]{32}\/Conferences\/CF[0-9a-fA-F]{32}\/Participants\/CA[0-9a-fA-F]{32}\.json$/ },
  'calls(…).update': { method: 'POST', path: /^\/2010-04-01\/Accounts\/AC[0-9a-f]{32}\/Calls\/CA[0-9a-fA-F]{32}\.json$/ },
  'conferences(…).update': { method: 'POST', path: /^\/2010-04-01\/Accounts\/AC[0-9a-f]{32}\/Conferences\/CF[0-9a-fA-F]{32}\.json$/ },
  'video.v1.rooms.create': { method: 'POST', path: /^\/v1\/Rooms$/ },
  'video.v1.rooms(…).update': { method: 'POST', path: /^\/v1\/Rooms\/RM[0-9a-fA-F]{32}$/ },
  'fetch(recording media)': { method: 'GET', path: /^\/2010-04-01\/Accounts\/AC[0-9a-f]{32}\/Recordings\/RE[0-9a-fA-F]{32}\.mp3$/ },
};

/** The REST calls the Twilio providers' source makes: `this.client…create|update|fetch|list|remove(` chains and raw fetches. */
function restCallsInSource(): string[] {
  const dir = path.join(path.dirname(new URL(import.meta.url).pathname), '../src/providers');
  const found: string[] = [];
  for (const file of readdirSync(dir).filter((f) => /twilio/.test(f) && f.endsWith('.ts'))) {
    const source = readFileSync(path.join(dir, file), 'utf8');
    for (const m of source.matchAll(/this\.client((?:\s*\.\w+|\([^()]*\))*?)\s*\.(create|update|fetch|list|remove|each|page)\(/g)) {
      found.push(`${m[1]!.replace(/\s+/g, '').replace(/^\./, '').replace(/\([^()]*\)/g, '(…)')}.${m[2]}`);
    }
    for (const m of source.matchAll(/\bfetch\(\s*(\w+)/g)) {
      assert.equal(m[1], 'url', `${file}: a raw fetch other than the recording's`);
      found.push('fetch(recording media)');
    }
  }
  return found;
}

/**
 * Twilio takes an array form field as the key repeated (`StatusCallbackEvent=a&StatusCallbackEvent=b`,
 * as twilio-node sends it); its documents do not say so, so without this Prism reads one string.
 */
function withRepeatedArrayFields(file: string): string {
  const spec = JSON.parse(readFileSync(path.join(specDir, file), 'utf8'));
  for (const item of Object.values(spec.paths) as Array<Record<string, any>>) {
    for (const operation of Object.values(item)) {
      const form = operation?.requestBody?.content?.['application/x-www-form-urlencoded'];
      const properties = form?.schema?.properties ?? {};
      for (const [name, schema] of Object.entries(properties) as Array<[string, { type?: string }]>) {
        if (schema.type === 'array') form.encoding = { ...form.encoding, [name]: { style: 'form', explode: true } };
      }
    }
  }
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'carecomms-prism-')), file);
  writeFileSync(out, JSON.stringify(spec));
  return out;
}

async function startPrism(file: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [prismBin, 'mock', '--errors', '-h', '127.0.0.1', '-p', '0', withRepeatedArrayFields(file)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SCARF_ANALYTICS: 'false' },
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`prism did not start:\n${output}`)), 90_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /Prism is listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`prism exited ${code}:\n${output}`)));
  });
  return { port, child };
}

/** Prism's answer when the request passed but its generated response broke the description. */
function onlyResponseViolations(text: string): boolean {
  try {
    const problem = JSON.parse(text) as { validation?: Array<{ location: string[] }> };
    return Array.isArray(problem.validation) && problem.validation.length > 0 && problem.validation.every((v) => v.location[0] === 'response');
  } catch {
    return false;
  }
}

const RECORDING_BYTES = Buffer.from('ID3 contract test recording');

describe('Twilio REST contract (Prism on Twilio’s OpenAPI documents)', { timeout: 240_000 }, () => {
  const prisms: Array<{ prefix: RegExp; port: number; child: ChildProcess }> = [];
  const exchanges: Exchange[] = [];
  let router: Server;
  /** How many of the next Messages creates answer 500 after Prism accepted them. */
  let ambiguousCreates = 0;
  let sidCounter = 0;
  let server: TestServer;

  before(async () => {
    for (const spec of SPECS) prisms.push({ prefix: spec.prefix, ...(await startPrism(spec.file)) });
    router = createServer((req, res) => {
      const target = prisms.find((p) => p.prefix.test(req.url ?? ''));
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (!target) {
          exchanges.push({ method: req.method!, path: req.url!, status: 599, body: 'no spec serves this path' });
          res.writeHead(404).end();
          return;
        }
        // Recording media (.mp3) is the Recording resource in another format: checked as the resource, served as bytes.
        const media = req.method === 'GET' && /\/Recordings\/RE[0-9a-fA-F]{32}\.mp3$/.test(req.url!);
        const isCreate = req.method === 'POST' && /\/(Messages|Participants)\.json$|^\/v1\/Rooms$/.test(req.url!);
        const ambiguous = isCreate && req.url!.endsWith('/Messages.json') && ambiguousCreates > 0;
        if (ambiguous) ambiguousCreates--;
        const upstream = httpRequest(
          {
            host: '127.0.0.1',
            port: target.port,
            method: req.method,
            path: media ? req.url!.replace(/\.mp3$/, '.json') : req.url,
            headers: { ...req.headers, host: `127.0.0.1:${target.port}` },
          },
          (answer) => {
            const body: Buffer[] = [];
            answer.on('data', (c: Buffer) => body.push(c));
            answer.on('end', () => {
              let text = Buffer.concat(body).toString();
              let status = answer.statusCode ?? 0;
              if (status === 500 && onlyResponseViolations(text) && req.method === 'GET' && /\/Messages\.json\?/.test(req.url!)) {
                // The request passed; Prism's own example page breaks Twilio's schema (relative URIs for format: uri).
                status = 200;
                text = JSON.stringify({ messages: [], page: 0, page_size: 20, start: 0, end: 0, uri: req.url, first_page_uri: req.url, next_page_uri: null, previous_page_uri: null });
              }
              exchanges.push({ method: req.method!, path: req.url!, status, body: text });
              const headers = { ...answer.headers };
              delete headers['content-length'];
              if (media && status === 200) return res.writeHead(200, { 'content-type': 'audio/mpeg' }).end(RECORDING_BYTES);
              // Twilio created it, but its answer was lost: the outbox must look before it sends again.
              if (ambiguous) return res.writeHead(500, { 'content-type': 'application/json' }).end('{"code":20500,"message":"Internal Server Error","status":500}');
              // Prism answers every create with the same example SIDs; Twilio's are unique.
              if (isCreate && status < 300) text = text.replace(/"(sid|call_sid|conference_sid)":"([A-Z]{2})[0-9a-fA-F]{32}"/g, (_m, key: string, prefix: string) => `"${key}":"${prefix}${(++sidCounter).toString(16).padStart(32, '0')}"`);
              res.writeHead(status || 502, headers).end(text);
            });
          },
        );
        upstream.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => router.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(router.address() as AddressInfo).port}`;
    server = await startServer('pglite', { env: { ...twilioEnv(url), ...FAST_OUTBOX_ENV, TWILIO_TWIML_APP_SID: 'AP' + '7'.repeat(32) } });
  });

  after(async () => {
    await server?.close();
    router?.close();
    for (const p of prisms) p.child.kill();
  });

  const rejected = () => exchanges.filter((e) => e.status === 422 || e.status === 599 || e.status === 404);

  test('sending an SMS makes a Messages create that Twilio’s description accepts', async () => {
    const token = await server.token('dr-lee');
    const patients = (await api(server, '/api/v1/patients?q=Margaret', { token })).body.items;
    const sent = await api(server, `/api/v1/patients/${patients[0].id}/messages`, { token, body: { body: 'Your appointment is confirmed for 9:30am.' } });
    assert.equal(sent.status, 202);
    const create = await waitUntil(() => exchanges.find((e) => e.method === 'POST' && /\/Messages\.json$/.test(e.path)), 20_000, 'the Messages create');
    assert.deepEqual(rejected(), [], 'no request broke the description');
    assert.equal(create.status, 201, create.body);
    // The provider's SID is stored on the entry.
    await waitUntil(async () => (await server.db.knex('correspondence').where({ id: sent.body.id }).first())?.provider_sid, 10_000, 'the SID');
  });

  test('a call: the patient dialled into the conference, held, resumed and hung up, each request as Twilio’s description has it', async () => {
    const token = await server.token('dr-lee');
    const patients = (await api(server, '/api/v1/patients?q=Aiko', { token })).body.items;
    const started = await api(server, `/api/v1/patients/${patients[0].id}/calls`, { token, method: 'POST' });
    assert.equal(started.status, 201);
    const from = exchanges.length;
    // The browser's leg reaches the voice webhook, which dials the patient.
    const params = { CallSid: 'CA' + 'b'.repeat(32), From: `client:${started.body.identity}`, callId: started.body.id, AccountSid: TEST_TWILIO.accountSid };
    const voice = await fetch(`${server.url}/webhooks/twilio/voice`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature(TEST_TWILIO.authToken, `${TEST_TWILIO.baseUrl}/webhooks/twilio/voice`, params),
      },
      body: new URLSearchParams(params).toString(),
    });
    assert.deepEqual(rejected(), [], 'no request broke the description');
    assert.match(await voice.text(), /<Conference/);
    const call = await server.db.knex('calls').where({ id: started.body.id }).first();
    assert.match(call.conference_sid, /^CF/, 'the conference SID from Twilio’s answer is kept');
    // Answered (as Twilio's webhook would report), then held, resumed and ended.
    await server.app.calls.handleWebhook('call-status', { ref: call.id, leg: 'patient' }, { CallSid: call.patient_call_sid, CallStatus: 'in-progress' }, { type: 'webhook', id: 'twilio', requestId: null, ip: null });
    for (const action of ['hold', 'resume', 'end']) {
      const res = await api(server, `/api/v1/calls/${call.id}/${action}`, { token, method: 'POST' });
      assert.equal(res.status, 200, `${action}: ${JSON.stringify(res.body)}`);
    }
    const voiceExchanges = exchanges.slice(from);
    assert.deepEqual(
      voiceExchanges.map((e) => [e.method, e.path.replace(/AC[0-9a-f]{32}/, 'AC…').replace(/call-[0-9a-f]{32}/, 'call-…').replace(/(CF|CA)[0-9a-fA-F]{32}/g, '$1…')]),
      [
        ['POST', '/2010-04-01/Accounts/AC…/Conferences/call-…/Participants.json'],
        ['POST', '/2010-04-01/Accounts/AC…/Conferences/CF…/Participants/CA….json'],
        ['POST', '/2010-04-01/Accounts/AC…/Conferences/CF…/Participants/CA….json'],
        ['POST', '/2010-04-01/Accounts/AC…/Conferences/CF….json'],
      ],
    );
    assert.deepEqual(rejected(), [], 'no request broke the description');
  });
  /** Posts a webhook as Twilio would: form-encoded, signed over BASE_URL + path + query. */
  const webhook = async (path: string, params: Record<string, string>) => {
    const res = await fetch(server.url + path, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature(TEST_TWILIO.authToken, TEST_TWILIO.baseUrl + path, params),
      },
      body: new URLSearchParams(params).toString(),
    });
    assert.ok(res.status < 300, `${path}: ${res.status}`);
    return res.text();
  };
  const patient = async (token: string, q: string) => (await api(server, `/api/v1/patients?q=${q}`, { token })).body.items[0] as { id: string; phone: string };
  const since = (from: number) => exchanges.slice(from).map((e) => `${e.method} ${e.path.split('?')[0]!.replace(/AC[0-9a-f]{32}/, 'AC…').replace(/call-[0-9a-f]{32}/, 'call-…').replace(/(CF|CA|RE|RM|SM)[0-9a-fA-F]{32}/g, '$1…')} ${e.status}`);

  test('a video visit: the room created, the join link texted, the room completed, each as Twilio’s description has it', async () => {
    const token = await server.token('dr-lee');
    const from = exchanges.length;
    const visit = await api(server, `/api/v1/patients/${(await patient(token, 'Lucas')).id}/video-visits`, { token, method: 'POST' });
    assert.equal(visit.status, 201, JSON.stringify(visit.body));
    assert.equal((await api(server, `/api/v1/video-visits/${visit.body.id}/send-link`, { token, method: 'POST' })).status, 202);
    await waitUntil(() => exchanges.slice(from).some((e) => e.path.endsWith('/Messages.json')), 20_000, 'the link SMS');
    assert.equal((await api(server, `/api/v1/video-visits/${visit.body.id}/end`, { token, method: 'POST' })).status, 200);
    assert.deepEqual(since(from).sort(), ['POST /2010-04-01/Accounts/AC…/Messages.json 201', 'POST /v1/Rooms 201', 'POST /v1/Rooms/RM… 202'].sort());
    assert.deepEqual(rejected(), [], 'no request broke the description');
  });

  test('a recorded call: the notice announced to the patient, the recording fetched; a call ended while ringing cancels the phone leg', async () => {
    const token = await server.token('dr-lee');
    await server.db.knex('tenants').where({ slug: 'demo-clinic' }).update({ recording_enabled: true });
    try {
      const started = (await api(server, `/api/v1/patients/${(await patient(token, 'Fatima')).id}/calls`, { token, method: 'POST' })).body;
      await webhook('/webhooks/twilio/voice', { CallSid: 'CA' + 'c'.repeat(32), From: `client:${started.identity}`, callId: started.id, AccountSid: TEST_TWILIO.accountSid });
      const call = await server.db.knex('calls').where({ id: started.id }).first();
      const from = exchanges.length;
      await webhook(`/webhooks/twilio/call-status?ref=${call.id}&leg=patient`, { AccountSid: TEST_TWILIO.accountSid, CallSid: call.patient_call_sid, CallStatus: 'in-progress' });
      await webhook(`/webhooks/twilio/conference-status?ref=${call.id}`, {
        AccountSid: TEST_TWILIO.accountSid,
        ConferenceSid: call.conference_sid,
        StatusCallbackEvent: 'participant-join',
        CallSid: call.patient_call_sid,
        SequenceNumber: '2',
      });
      assert.equal((await api(server, `/api/v1/calls/${call.id}/end`, { token, method: 'POST' })).status, 200);
      await webhook(`/webhooks/twilio/recording-status?ref=${call.id}`, {
        AccountSid: TEST_TWILIO.accountSid,
        ConferenceSid: call.conference_sid,
        RecordingSid: 'RE' + 'd'.repeat(32),
        RecordingStatus: 'completed',
        RecordingDuration: '12',
      });
      const played = await fetch(`${server.url}/api/v1/calls/${call.id}/recording`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(played.status, 200);
      assert.deepEqual(Buffer.from(await played.arrayBuffer()), RECORDING_BYTES);
      assert.deepEqual(since(from), [
        'POST /2010-04-01/Accounts/AC…/Conferences/CF…/Participants/CA….json 200',
        'POST /2010-04-01/Accounts/AC…/Conferences/CF….json 200',
        'GET /2010-04-01/Accounts/AC…/Recordings/RE….mp3 200',
      ]);
      assert.match(exchanges.at(-3)!.body, /"call_sid"/, 'the announce answered with a participant');
    } finally {
      await server.db.knex('tenants').where({ slug: 'demo-clinic' }).update({ recording_enabled: false });
    }

    const ringing = (await api(server, `/api/v1/patients/${(await patient(token, 'James')).id}/calls`, { token, method: 'POST' })).body;
    await webhook('/webhooks/twilio/voice', { CallSid: 'CA' + 'e'.repeat(32), From: `client:${ringing.identity}`, callId: ringing.id, AccountSid: TEST_TWILIO.accountSid });
    const from = exchanges.length;
    const ended = await api(server, `/api/v1/calls/${ringing.id}/end`, { token, method: 'POST' });
    assert.equal(ended.body.status, 'canceled');
    assert.deepEqual(since(from), ['POST /2010-04-01/Accounts/AC…/Calls/CA….json 200', 'POST /2010-04-01/Accounts/AC…/Conferences/CF….json 200']);
    assert.deepEqual(rejected(), [], 'no request broke the description');
  });

  test('the HELP auto-reply goes out as a Messages create Twilio’s description accepts', async () => {
    const token = await server.token('dr-lee');
    const lucas = await patient(token, 'Lucas');
    const from = exchanges.length;
    await webhook('/webhooks/twilio/sms-inbound', { AccountSid: TEST_TWILIO.accountSid, MessageSid: 'SM' + '6'.repeat(32), From: lucas.phone, To: '+61491571266', Body: 'help' });
    await waitUntil(() => exchanges.slice(from).some((e) => e.path.endsWith('/Messages.json')), 20_000, 'the HELP reply');
    assert.deepEqual(since(from), ['POST /2010-04-01/Accounts/AC…/Messages.json 201']);
    assert.deepEqual(rejected(), [], 'no request broke the description');
  });

  test('an ambiguous send is looked up (list by To and From) before it is sent again; a known SID is fetched', async () => {
    const token = await server.token('dr-lee');
    const from = exchanges.length;
    ambiguousCreates = 1;
    const sent = await api(server, `/api/v1/patients/${(await patient(token, 'Aiko')).id}/messages`, { token, body: { body: 'Please call the clinic about your referral.' } });
    assert.equal(sent.status, 202);
    const row = await waitUntil(async () => (await server.db.knex('correspondence').where({ id: sent.body.id }).first())?.provider_sid, 20_000, 'sent after the lookup');
    assert.deepEqual(since(from), [
      'POST /2010-04-01/Accounts/AC…/Messages.json 201',
      'GET /2010-04-01/Accounts/AC…/Messages.json 200',
      'POST /2010-04-01/Accounts/AC…/Messages.json 201',
    ]);
    const list = exchanges.slice(from).find((e) => e.method === 'GET')!;
    const query = new URL(list.path, 'http://x').searchParams;
    assert.equal(query.get('To'), '+61491570157');
    assert.equal(query.get('From'), '+61491571266');
    // The outbox fetches by SID when it has one (a retry after the SID was saved).
    const next = exchanges.length;
    const found = await server.app.provider.findSms({ reference: sent.body.id, sid: row, to: '+61491570157', from: '+61491571266', body: 'x', statusCallbackUrl: '', since: new Date() });
    assert.ok(found?.sid);
    assert.deepEqual(since(next), ['GET /2010-04-01/Accounts/AC…/Messages/SM….json 200']);
    assert.deepEqual(rejected(), [], 'no request broke the description');
  });

  test('every REST call in the Twilio providers is listed, and each was checked against Twilio’s description above', () => {
    const inSource = restCallsInSource();
    assert.deepEqual([...new Set(inSource)].sort(), Object.keys(REST_CALLS).sort(), 'a REST call the contract does not list: add it to REST_CALLS and exercise it');
    for (const [name, operation] of Object.entries(REST_CALLS)) {
      const checked = exchanges.filter((e) => e.method === operation.method && operation.path.test(e.path));
      assert.ok(checked.length > 0, `${name} was exercised against Prism`);
      for (const e of checked) assert.ok(e.status >= 200 && e.status < 300, `${name}: Prism answered ${e.status} ${e.body.slice(0, 300)}`);
    }
    // And nothing reached Twilio that the list does not name.
    for (const e of exchanges) {
      assert.ok(Object.values(REST_CALLS).some((o) => o.method === e.method && o.path.test(e.path)), `unlisted request ${e.method} ${e.path}`);
    }
  });
});
