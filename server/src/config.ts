import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** The server's configuration, parsed once from the environment at start-up (STYLE §13). */
export interface Config {
  host: string;
  port: number;
  baseUrl: string;
  databaseUrl: string | null;
  dataDir: string;
  sessionSecret: string;
  demo: boolean;
  logLevel: string;
  twilio: TwilioConfig | null;
  twilioApiUrl: string | null;
  sandbox: SandboxConfig;
  outbox: OutboxConfig;
  video: VideoConfig;
  http: HttpConfig;
}

/** HTTP hardening. */
export interface HttpConfig {
  /** Session tokens (`POST /demo/session`, `POST /api/v1/sessions`) one client address may mint per minute. */
  sessionRateLimitPerMinute: number;
  /** Origins whose pages may call the browser API and load the CDN bundle; `*` allows any. */
  corsOrigins: string[];
}

/** Video visits. */
export interface VideoConfig {
  /** Patient join attempts (page loads and seat requests) one client address may make per minute. */
  joinRateLimitPerMinute: number;
}

/** The sandbox provider's behaviour (used only when Twilio is not configured). */
export interface SandboxConfig {
  /** Delay before each status step (queued → sent → delivered), in ms. */
  latencyMs: number;
  /** Probability (0–1) that a send fails transiently, as a Twilio 429 would. */
  failRate: number;
  /** How long a sandbox call rings before it counts as not answered. */
  ringTimeoutMs: number;
  /** How long a side of a sandbox call may lose its connection before it counts as hung up. */
  seatGraceMs: number;
}

/** Outbox worker tunables. */
export interface OutboxConfig {
  /** Idle poll interval; new rows also wake the worker at once via NOTIFY. */
  pollMs: number;
  /** How long a claimed row stays locked before another worker may take it over (crash recovery). */
  leaseMs: number;
  /** First retry delay; doubles per attempt (with jitter), capped at five minutes. */
  retryBaseMs: number;
  /** Attempts before a message is marked failed. */
  maxAttempts: number;
  /** Rows one instance works on at once. */
  concurrency: number;
}

export interface TwilioConfig {
  accountSid: string;
  authToken: string;
  phoneNumber: string;
  apiKeySid: string | null;
  apiKeySecret: string | null;
  twimlAppSid: string | null;
  /** How long a request to Twilio's REST API may take before it counts as failed (ambiguous: looked up before any resend). */
  requestTimeoutMs: number;
}

/** A configuration problem: start-up prints `message` (one line naming the variable) and exits. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const flag = z
  .enum(['0', '1', 'true', 'false', ''])
  .transform((v) => v === '1' || v === 'true');

const schema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  DEMO: flag.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC followed by 32 hex digits').optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TWILIO_PHONE_NUMBER: z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number like +61491570006').optional(),
  TWILIO_API_KEY_SID: z.string().regex(/^SK[0-9a-fA-F]{32}$/, 'must look like SK followed by 32 hex digits').optional(),
  TWILIO_API_KEY_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  TWILIO_TWIML_APP_SID: z.string().regex(/^AP[0-9a-fA-F]{32}$/, 'must look like AP followed by 32 hex digits').optional(),
  TWILIO_API_URL: z.url({ protocol: /^https?$/ }).optional(),
  // Sandbox provider: delay per status step, and the share of sends that fail transiently.
  SANDBOX_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(800),
  SANDBOX_FAIL_RATE: z.coerce.number().min(0).max(1).default(0),
  // Sandbox calls: how long the phone rings before "no answer", and how long a dropped side has to come back.
  SANDBOX_RING_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  SANDBOX_SEAT_GRACE_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  // Outbox worker: idle poll, claim lease (crash recovery), first back-off, attempts, parallel sends.
  OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  OUTBOX_LEASE_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  OUTBOX_RETRY_BASE_MS: z.coerce.number().int().min(1).max(600_000).default(2000),
  OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(12),
  OUTBOX_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  // Video: join attempts per client address per minute.
  JOIN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(30),
  // Session minting per client address per minute; browser origins allowed by CORS; Twilio REST request timeout.
  SESSION_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(300),
  CORS_ORIGINS: z
    .string()
    .regex(/^(\*|https?:\/\/[^\s,\/]+(,\s*https?:\/\/[^\s,\/]+)*)$/, 'must be * or a comma-separated list of origins like https://ehr.example.com')
    .default('*'),
  TWILIO_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
});

function emptyToUndefined(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) out[k] = v === '' ? undefined : v;
  return out;
}

/**
 * Parse and validate the environment. Throws `ConfigError` whose message is
 * one line naming the offending variable; never includes a secret's value.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(emptyToUndefined(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`Invalid ${name}: ${issue.message}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);

  let sessionSecret = e.SESSION_SECRET;
  if (!sessionSecret) {
    if (!e.DEMO) throw new ConfigError('Missing SESSION_SECRET: set at least 32 random characters (only demo mode generates one)');
    sessionSecret = demoSecret(dataDir);
  }

  const twilioVars = ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_PHONE_NUMBER'] as const;
  const present = twilioVars.filter((v) => e[v]);
  if (present.length > 0 && present.length < twilioVars.length) {
    const missing = twilioVars.find((v) => !e[v]);
    throw new ConfigError(`Missing ${missing}: Twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER together`);
  }
  if (Boolean(e.TWILIO_API_KEY_SID) !== Boolean(e.TWILIO_API_KEY_SECRET)) {
    const missing = e.TWILIO_API_KEY_SID ? 'TWILIO_API_KEY_SECRET' : 'TWILIO_API_KEY_SID';
    throw new ConfigError(`Missing ${missing}: API key signing needs TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET together`);
  }
  const twilio: TwilioConfig | null =
    present.length === twilioVars.length
      ? {
          accountSid: e.TWILIO_ACCOUNT_SID!,
          authToken: e.TWILIO_AUTH_TOKEN!,
          phoneNumber: e.TWILIO_PHONE_NUMBER!,
          apiKeySid: e.TWILIO_API_KEY_SID ?? null,
          apiKeySecret: e.TWILIO_API_KEY_SECRET ?? null,
          twimlAppSid: e.TWILIO_TWIML_APP_SID ?? null,
          requestTimeoutMs: e.TWILIO_TIMEOUT_MS,
        }
      : null;

  const displayHost = e.HOST === '0.0.0.0' || e.HOST === '::' ? '127.0.0.1' : e.HOST;
  const baseUrl = (e.BASE_URL ?? `http://${displayHost}:${e.PORT}`).replace(/\/+$/, '');

  return {
    host: e.HOST,
    port: e.PORT,
    baseUrl,
    databaseUrl: e.DATABASE_URL ?? null,
    dataDir,
    sessionSecret,
    demo: e.DEMO,
    logLevel: e.LOG_LEVEL,
    twilio,
    twilioApiUrl: e.TWILIO_API_URL ?? null,
    sandbox: {
      latencyMs: e.SANDBOX_LATENCY_MS,
      failRate: e.SANDBOX_FAIL_RATE,
      ringTimeoutMs: e.SANDBOX_RING_TIMEOUT_MS,
      seatGraceMs: e.SANDBOX_SEAT_GRACE_MS,
    },
    outbox: {
      pollMs: e.OUTBOX_POLL_MS,
      leaseMs: e.OUTBOX_LEASE_MS,
      retryBaseMs: e.OUTBOX_RETRY_BASE_MS,
      maxAttempts: e.OUTBOX_MAX_ATTEMPTS,
      concurrency: e.OUTBOX_CONCURRENCY,
    },
    video: { joinRateLimitPerMinute: e.JOIN_RATE_LIMIT_PER_MINUTE },
    http: {
      sessionRateLimitPerMinute: e.SESSION_RATE_LIMIT_PER_MINUTE,
      corsOrigins: e.CORS_ORIGINS.split(',').map((origin) => origin.trim()),
    },
  };
}

/** Demo mode keeps one generated secret in DATA_DIR so tokens survive a restart. */
function demoSecret(dataDir: string): string {
  const file = path.join(dataDir, 'session-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
