import type { PassThrough } from 'node:stream';
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { createRegistry } from './http/openapi.js';
import { rejectNulCharacters, requestHandling } from './http/middleware.js';
import { securityHeaders } from './http/security.js';
import type { AppState } from './http/state.js';
import type { Logger } from './logger.js';
import { RealtimeHub } from './realtime/hub.js';
import { createRepositories } from './repositories/index.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerBrowserRoutes } from './routes/browser.js';
import type { RouteContext } from './routes/context.js';
import { registerDemoRoutes } from './routes/demo.js';
import { registerEventRoutes } from './routes/events.js';
import { CDN_DIR, EHR_HOST_DIR, SDK_BROWSER_DIR, staticFiles } from './routes/pages.js';
import { registerMessageRoutes } from './routes/messages.js';
import { registerSandboxRoutes, SANDBOX_PUBLIC_DIR } from './routes/sandbox.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerTwilioWebhooks } from './routes/webhooks.js';
import { OutboxWorker } from './outbox/worker.js';
import { createProvider, SANDBOX_DEFAULT_NUMBER, type MessagingProvider } from './providers/index.js';
import { SandboxProvider } from './providers/sandbox.js';
import { SandboxPhoneHub } from './sandbox/hub.js';
import { createServices } from './services/index.js';
import { SeatTokens } from './auth/seat-tokens.js';
import { limitRequests, RateLimiter } from './http/rate-limit.js';
import { SandboxVideoProvider } from './providers/video-sandbox.js';
import { TwilioVideoProvider } from './providers/video-twilio.js';
import { SignallingHub } from './realtime/signalling.js';
import { VideoVisitRepository } from './repositories/video-visits.js';
import { registerJoinRoutes } from './routes/join.js';
import { registerVideoRoutes } from './routes/video.js';
import { VideoVisitService } from './services/video-visits.js';
import { CallTokens } from './auth/call-tokens.js';
import { CallRepository } from './repositories/calls.js';
import { registerCallRoutes } from './routes/calls.js';
import { registerSandboxCallRoutes } from './routes/sandbox-calls.js';
import { registerVoiceWebhooks } from './routes/voice-webhooks.js';
import { SandboxVoiceProvider } from './providers/voice-sandbox.js';
import { TwilioVoiceProvider } from './providers/voice-twilio.js';
import type { VoiceProvider } from './providers/voice.js';
import { CallService } from './services/calls.js';

/** How often visits past their expiry are ended. */
const VIDEO_EXPIRY_SWEEP_MS = 60_000;
/** How often calls nobody reports on any more are closed. */
const CALL_EXPIRY_SWEEP_MS = 60_000;
/** Idempotency-Keys are remembered for a day; forgetting them hourly keeps the table small. */
const IDEMPOTENCY_KEY_SWEEP_MS = 60 * 60_000;

export interface AppDeps {
  config: Config;
  db: Database;
  logger: Logger;
}

export interface CareApp {
  koa: Koa<AppState>;
  hub: RealtimeHub;
  repos: ReturnType<typeof createRepositories>;
  services: ReturnType<typeof createServices>;
  provider: MessagingProvider;
  outbox: OutboxWorker;
  video: VideoVisitService;
  calls: CallService;
  voice: VoiceProvider;
  /** Sandbox WebRTC signalling for video visits (and calls). */
  signalling: SignallingHub;
  /** Starts background work (realtime listener, outbox worker, sandbox). */
  start(): Promise<void>;
  /** Ends event streams and background work, waiting for sends in flight; the caller closes the HTTP server and database. */
  stop(): Promise<void>;
}

/** Builds the Koa app from its dependencies (STYLE §11). */
export function createApp({ config, db, logger }: AppDeps): CareApp {
  const repos = createRepositories(db.knex);
  const services = createServices(db.knex, repos, {
    sessionSecret: config.sessionSecret,
    defaultNumber: config.twilio?.phoneNumber ?? SANDBOX_DEFAULT_NUMBER,
    logger,
  });
  const hub = new RealtimeHub(db, repos.events, repos.patients, logger);
  const sandboxActor = { type: 'system', id: 'sandbox', requestId: null, ip: null } as const;
  const provider = createProvider(config, {
    sandboxRepo: repos.sandbox,
    sinks: {
      status: (update) => services.sms.applyStatus(update, sandboxActor),
      inbound: (sms) => services.sms.receive(sms, sandboxActor),
    },
    logger,
  });
  const outbox = new OutboxWorker({ db, repos, sms: services.sms, provider, config: config.outbox, baseUrl: config.baseUrl, logger });
  const sandboxHub = provider instanceof SandboxProvider ? new SandboxPhoneHub(db, repos.sandbox, logger) : null;
  const signalling = new SignallingHub();
  const seatTokens = new SeatTokens(config.sessionSecret);
  const video = new VideoVisitService(db.knex, {
    visits: new VideoVisitRepository(db.knex),
    correspondence: repos.correspondence,
    correspondenceService: services.correspondence,
    patientService: services.patients,
    tenants: repos.tenants,
    audit: repos.audit,
    events: repos.events,
    sms: services.sms,
    provider: config.twilio ? new TwilioVideoProvider(config.twilio, config.twilioApiUrl) : new SandboxVideoProvider(signalling, seatTokens),
    baseUrl: config.baseUrl,
    logger,
  });
  let videoSweep: NodeJS.Timeout | null = null;
  const callTokens = new CallTokens(config.sessionSecret);
  // The sandbox posts its status callbacks to the same handler Twilio's webhooks reach.
  const voice: VoiceProvider = config.twilio
    ? new TwilioVoiceProvider(config.twilio, config.twilioApiUrl)
    : new SandboxVoiceProvider(signalling, callTokens, (url, params) => calls.deliver(url, params, sandboxActor), logger, {
        ringTimeoutMs: config.sandbox.ringTimeoutMs,
        seatGraceMs: config.sandbox.seatGraceMs,
      });
  const calls: CallService = new CallService(db.knex, {
    calls: new CallRepository(db.knex),
    correspondence: repos.correspondence,
    correspondenceService: services.correspondence,
    patientService: services.patients,
    tenants: repos.tenants,
    audit: repos.audit,
    events: repos.events,
    sms: services.sms,
    provider: voice,
    tokens: callTokens,
    baseUrl: config.baseUrl,
    logger,
  });
  let callSweep: NodeJS.Timeout | null = null;
  let keySweep: NodeJS.Timeout | null = null;
  const registry = createRegistry();
  const router = new Router<AppState>();
  const streams = new Set<PassThrough>();

  const rc: RouteContext = {
    router,
    registry,
    config,
    db,
    repos,
    services,
    hub,
    authenticate: async (ctx, kind) => {
      await services.auth.authenticate(ctx, kind);
    },
  };
  registerSystemRoutes(rc);
  registerBrowserRoutes(rc, ['sms', ...(calls.available ? (['voice'] as const) : []), 'video']);
  registerMessageRoutes(rc);
  registerEventRoutes(rc, streams);
  registerTwilioWebhooks(rc);
  const sandboxVoice = voice instanceof SandboxVoiceProvider ? voice : null;
  registerCallRoutes(rc, { calls, signalling, tokens: callTokens, sandbox: sandboxVoice, streams });
  registerVoiceWebhooks(rc, calls);
  if (sandboxVoice) registerSandboxCallRoutes(rc, sandboxVoice, signalling, streams);
  registerVideoRoutes(rc, { video, signalling, seatTokens, streams, logger });
  registerJoinRoutes(rc, { video, limiter: new RateLimiter(config.video.joinRateLimitPerMinute, 60_000) });
  if (provider instanceof SandboxProvider && sandboxHub) registerSandboxRoutes(rc, provider, sandboxHub, streams, sandboxVoice);
  registerAdminRoutes(rc);
  if (config.demo) registerDemoRoutes(rc);

  const koa = new Koa<AppState>({ proxy: true });
  // A browser closing its event stream is routine, not an error.
  koa.on('error', (error: { code?: string; message?: string }) => {
    if (error.code === 'ERR_STREAM_PREMATURE_CLOSE' || error.code === 'ECONNRESET' || error.code === 'EPIPE') return;
    logger.error({ err: { message: error.message, code: error.code } }, 'response error');
  });
  koa.use(requestHandling(logger));
  koa.use(securityHeaders({ twilio: config.twilio !== null, corsOrigins: config.http.corsOrigins }));
  // Minting sessions is counted per client address before the body is even read.
  koa.use(
    limitRequests(new RateLimiter(config.http.sessionRateLimitPerMinute, 60_000), [
      { method: 'POST', path: '/demo/session' },
      { method: 'POST', path: '/api/v1/sessions' },
    ]),
  );
  // Twilio's webhooks are form-encoded; they parse (and sign-check) their own bodies.
  const jsonBody = bodyParser({ enableTypes: ['json'], jsonLimit: '64kb', encoding: 'utf-8' });
  koa.use((ctx, next) => (ctx.path.startsWith('/webhooks/') ? next() : jsonBody(ctx, next)));
  koa.use(rejectNulCharacters());
  koa.use(router.routes());
  koa.use(router.allowedMethods({ throw: false }));
  koa.use(staticFiles('/cdn/', CDN_DIR, { maxAge: 60_000 }));
  if (sandboxHub) koa.use(staticFiles('/sandbox/assets/sdk/', SDK_BROWSER_DIR));
  if (sandboxHub) koa.use(staticFiles('/sandbox/assets/', SANDBOX_PUBLIC_DIR));
  if (config.demo) koa.use(staticFiles('/', EHR_HOST_DIR));

  return {
    koa,
    hub,
    repos,
    services,
    provider,
    outbox,
    video,
    calls,
    voice,
    signalling,
    async start() {
      await hub.start();
      await sandboxHub?.start();
      await provider.start();
      await outbox.start();
      videoSweep = setInterval(() => {
        video.expireOverdue().catch((error: Error) => logger.warn({ err: { message: error.message } }, 'video expiry sweep failed'));
      }, VIDEO_EXPIRY_SWEEP_MS);
      videoSweep.unref();
      callSweep = setInterval(() => {
        calls.expireStale().catch((error: Error) => logger.warn({ err: { message: error.message } }, 'call expiry sweep failed'));
      }, CALL_EXPIRY_SWEEP_MS);
      callSweep.unref();
      keySweep = setInterval(() => {
        services.sms.expireIdempotencyKeys().catch((error: Error) => logger.warn({ err: { message: error.message } }, 'idempotency key sweep failed'));
      }, IDEMPOTENCY_KEY_SWEEP_MS);
      keySweep.unref();
    },
    async stop() {
      if (videoSweep) clearInterval(videoSweep);
      if (callSweep) clearInterval(callSweep);
      if (keySweep) clearInterval(keySweep);
      for (const stream of streams) stream.end();
      await outbox.stop();
      await voice.stop();
      await provider.stop();
      await sandboxHub?.stop();
      await hub.stop();
    },
  };
}
