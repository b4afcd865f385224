/**
 * Access-token minting in Twilio mode, against a local mock of Twilio's REST
 * API: video visit create and call start over HTTP next to a bare node:http
 * hello, and the signer itself (a cached KeyObject, AccessTokenSigner) next to
 * twilio's `AccessToken.toJwt()` with a string secret, the naive path.
 *
 *   npx tsx --conditions=source bench/tokens.ts
 */
import { fileURLToPath } from 'node:url';
import twilio from 'twilio';
import { loadConfig } from '../server/src/config.js';
import { AccessTokenSigner } from '../server/src/providers/access-tokens.js';
import { BENCH_ADMIN_URL, bareServer, benchApp, benchDatabase, demoToken, fmt, load, reqs, twilioBenchEnv, twilioMock, type Section } from './lib.js';

const PATIENTS = 500;
const MICRO_MS = Number(process.env.BENCH_MICRO_MS ?? 3000);

/** Calls `fn` for `ms` milliseconds (in batches, so the clock is read rarely); returns calls per second. */
function perSecond(fn: () => unknown, ms = MICRO_MS): number {
  for (let i = 0; i < 200; i++) fn(); // warm up
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    elapsed = performance.now() - start;
  }
  return (n / elapsed) * 1000;
}

export async function benchTokens(): Promise<Section> {
  const mock = await twilioMock();
  const env = twilioBenchEnv(mock.url);
  const config = loadConfig({ DEMO: '1', SESSION_SECRET: 'bench-secret-bench-secret-bench-secret', ...env });
  const twilioConfig = config.twilio!;

  // Micro: the same video token, signed the naive way and ours.
  const { AccessToken } = twilio.jwt;
  const naive = perSecond(() => {
    const token = new AccessToken(twilioConfig.accountSid, twilioConfig.apiKeySid ?? twilioConfig.accountSid, twilioConfig.apiKeySecret ?? twilioConfig.authToken, {
      identity: 'p-0123456789abcdef',
      ttl: 3600,
    });
    token.addGrant(new AccessToken.VideoGrant({ room: 'v-0123456789abcdef' }));
    return token.toJwt();
  });
  const signer = new AccessTokenSigner(twilioConfig);
  const ours = perSecond(() => signer.video({ identity: 'p-0123456789abcdef', room: 'v-0123456789abcdef', ttlSeconds: 3600 }));

  const database = await benchDatabase(BENCH_ADMIN_URL);
  const server = await benchApp(database.url, env);
  try {
    const knex = server.db.knex;
    const tenant = await knex('tenants').where({ slug: 'demo-clinic' }).first();
    const lee = await knex('practitioners').where({ tenant_id: tenant.id, external_id: 'dr-lee' }).first();
    await knex.raw(
      `INSERT INTO patients (tenant_id, external_id, name, phone)
       SELECT ?, 'BENCH-' || g, 'Bench Patient ' || g, '+614915' || lpad(g::text, 5, '0') FROM generate_series(1, ?) g`,
      [tenant.id, PATIENTS],
    );
    await knex.raw(
      `INSERT INTO patient_access (practitioner_id, patient_id, tenant_id) SELECT ?, id, tenant_id FROM patients WHERE external_id LIKE 'BENCH-%' ON CONFLICT DO NOTHING`,
      [lee.id],
    );
    const ids: string[] = (await knex('patients').where('external_id', 'like', 'BENCH-%').select('id')).map((r: { id: string }) => r.id);
    const token = await demoToken(server.url);
    // Each request the next patient's, round robin (see patient-post-request.cjs).
    const roundRobin = (suffix: string) => {
      process.env.BENCH_PATIENT_POST = JSON.stringify({ patientIds: ids, suffix, token });
      return [{ method: 'POST' as const, setupRequest: fileURLToPath(new URL('./patient-post-request.cjs', import.meta.url)) }];
    };
    const bare = await bareServer();
    const baseline = await load(bare.url, { warmupSeconds: 2 });
    await bare.close();
    const video = await load(server.url, { requests: roundRobin('video-visits'), warmupSeconds: 2 });
    const calls = await load(server.url, { requests: roundRobin('calls'), warmupSeconds: 2 });
    const bareText = `bare node:http ${fmt(baseline.requestsPerSecond)} req/s`;
    const microRatio = ours / naive;
    return {
      title: 'Access-token minting (Twilio mode, local mock)',
      figures: [
        {
          what: 'video token: AccessTokenSigner (cached KeyObject) vs AccessToken.toJwt() with a string secret',
          baseline: `toJwt() ${fmt(naive)} tokens/s`,
          figure: `${fmt(ours)} tokens/s`,
          ratio: `${microRatio.toFixed(1)}×`,
          target: '≥ 5× the naive toJwt()',
          met: microRatio >= 5,
        },
        {
          what: 'POST video visit (room create on the mock, practitioner token, entry, audit)',
          baseline: bareText,
          figure: reqs(video),
          ratio: `${(video.requestsPerSecond / baseline.requestsPerSecond).toFixed(3)}×`,
          target: '—',
          met: null,
        },
        {
          what: 'POST call start (voice token, call row, entry, audit)',
          baseline: bareText,
          figure: reqs(calls),
          ratio: `${(calls.requestsPerSecond / baseline.requestsPerSecond).toFixed(3)}×`,
          target: '—',
          met: null,
        },
      ],
      notes: [
        `Micro-measures: ${MICRO_MS / 1000} s of signing each, in one thread. HTTP: 10 connections, 8 s each after 2 s of warm-up, round robin over ${PATIENTS} patients; ${mock.roomsCreated()} rooms created on the mock. The HTTP figures are bound by the database writes each request makes (visit or call row, entry, events, audit), not by signing: at the naive signer's rate, signing alone would take ${(1000 / naive).toFixed(2)} ms of each request.`,
      ],
    };
  } finally {
    await server.close();
    await database.drop();
    await mock.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await benchTokens(), null, 2));
