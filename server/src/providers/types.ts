import type { Status } from '@carecomms/core';

/** An SMS the outbox asks a provider to send. */
export interface OutboundSms {
  /** Our correspondence id: an opaque reference, never PHI. */
  reference: string;
  to: string;
  from: string;
  body: string;
  /** Where the provider reports status changes; carries only the opaque reference. */
  statusCallbackUrl: string;
}

/** A message as the provider knows it. */
export interface ProviderMessage {
  sid: string;
  status: Status;
  errorCode: string | null;
}

/** What the outbox needs to find out whether an earlier, unanswered attempt went through. */
export interface SentSmsQuery extends OutboundSms {
  /** The SID, when an earlier attempt recorded one. */
  sid: string | null;
  /** When the first attempt may have started: older messages are not ours. */
  since: Date;
}

/**
 * How a provider call failed, which decides what the outbox does next:
 * - `permanent`: the provider refused the message (e.g. Twilio 21211 invalid number); never retried.
 * - `transient`: nothing was sent (429, connection refused); retry after a back-off.
 * - `ambiguous`: the request may have been acted on (timeout, 5xx, connection reset);
 *   ask the provider before sending again.
 */
export type FailureKind = 'permanent' | 'transient' | 'ambiguous';

export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly options: { code?: string | null; httpStatus?: number | null; retryAfterMs?: number | null } = {},
  ) {
    super(message);
  }
  get code(): string | null {
    return this.options.code ?? null;
  }
  get retryAfterMs(): number | null {
    return this.options.retryAfterMs ?? null;
  }
}

/** The outside world for messaging (voice and video join this interface in later issues). */
export interface MessagingProvider {
  readonly name: 'twilio' | 'sandbox';
  /** Hands one SMS to the provider. Throws `ProviderError`. */
  sendSms(sms: OutboundSms): Promise<ProviderMessage>;
  /** The message an earlier attempt created, if any: by SID when known, else by our reference. */
  findSms(query: SentSmsQuery): Promise<ProviderMessage | null>;
  start(): Promise<void>;
  /** Stops background work and waits for what is in flight. */
  stop(): Promise<void>;
}

/** Twilio's message statuses in ours; unknown ones give null and are ignored. */
export function fromTwilioStatus(status: string | null | undefined): Status | null {
  switch (status) {
    case 'accepted':
    case 'scheduled':
    case 'queued':
      return 'queued';
    case 'sending':
      return 'sending';
    case 'sent':
      return 'sent';
    case 'delivered':
    case 'read':
    case 'partially_delivered':
      return 'delivered';
    case 'undelivered':
      return 'undelivered';
    case 'failed':
      return 'failed';
    case 'canceled':
      return 'canceled';
    case 'receiving':
    case 'received':
      return 'received';
    default:
      return null;
  }
}

/**
 * Twilio error codes that mean the message can never be sent as it is
 * (https://www.twilio.com/docs/api/errors). Other 4xx answers are treated as
 * permanent too; this list only documents the common ones.
 */
export const PERMANENT_SMS_ERRORS: Record<string, string> = {
  '21211': 'invalid To number',
  '21408': 'no permission to send to this region',
  '21610': 'recipient has unsubscribed (STOP)',
  '21612': 'cannot route to this number',
  '21614': 'To number is not a mobile number',
  '21617': 'body exceeds the maximum length',
  '30003': 'handset unreachable',
  '30004': 'message blocked',
  '30005': 'unknown destination handset',
  '30006': 'landline or unreachable carrier',
};

/** Classifies an HTTP answer from Twilio's REST API. */
export function classifyHttpFailure(httpStatus: number, code: string | null, retryAfterMs: number | null, message: string): ProviderError {
  if (httpStatus === 429 || code === '20429') return new ProviderError('transient', message, { code, httpStatus, retryAfterMs });
  if (httpStatus >= 500) return new ProviderError('ambiguous', message, { code, httpStatus, retryAfterMs });
  // Credentials rejected: an operator can fix it, so keep the message and retry later.
  if (httpStatus === 401 || httpStatus === 403) return new ProviderError('transient', message, { code, httpStatus });
  return new ProviderError('permanent', message, { code: code ?? `http_${httpStatus}`, httpStatus });
}

/** Network errors where the request certainly never reached the provider. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/** Classifies a request that got no HTTP answer. */
export function classifyNetworkFailure(error: { code?: string; message?: string }): ProviderError {
  const code = error.code ?? null;
  const kind: FailureKind = code && NOT_SENT_CODES.has(code) ? 'transient' : 'ambiguous';
  return new ProviderError(kind, `network: ${code ?? error.message ?? 'unknown error'}`, { code: null });
}

/** Retry-After in ms (seconds or an HTTP date), or null. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
