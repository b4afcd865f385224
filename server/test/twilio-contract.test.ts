import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

describe('Twilio REST contract (Prism on Twilio’s OpenAPI documents)', { timeout: 240_000 }, () => {
  const prisms: Array<{ prefix: RegExp; port: number; child: ChildProcess }> = [];
  const exchanges: Exchange[] = [];
  let router: Server;
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
        const upstream = httpRequest(
          { host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${target.port}` } },
          (answer) => {
            const body: Buffer[] = [];
            answer.on('data', (c: Buffer) => body.push(c));
            answer.on('end', () => {
              const text = Buffer.concat(body).toString();
              exchanges.push({ method: req.method!, path: req.url!, status: answer.statusCode ?? 0, body: text });
              res.writeHead(answer.statusCode ?? 502, answer.headers).end(text);
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
    // The provider's SID (Prism's example) is stored on the entry.
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
});
