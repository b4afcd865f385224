import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { api, FAST_OUTBOX_ENV, startServer, twilioEnv, waitUntil, type TestServer } from './helpers.js';

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

async function startPrism(file: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [prismBin, 'mock', '--errors', '-h', '127.0.0.1', '-p', '0', path.join(specDir, file)], {
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
    server = await startServer('pglite', { env: { ...twilioEnv(url), ...FAST_OUTBOX_ENV } });
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
});
