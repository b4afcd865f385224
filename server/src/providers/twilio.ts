import twilio from 'twilio';
import type RequestClientNS from 'twilio/lib/base/RequestClient.js';
import type { TwilioConfig } from '../config.js';
import {
  classifyHttpFailure,
  classifyNetworkFailure,
  fromTwilioStatus,
  parseRetryAfter,
  ProviderError,
  type MessagingProvider,
  type OutboundSms,
  type ProviderMessage,
  type SentSmsQuery,
} from './types.js';

type RawResponse = { statusCode: number; body: unknown; headers: Record<string, unknown> };

/** Clock skew allowed between us and Twilio when matching an earlier attempt by time. */
const MATCH_SKEW_MS = 5 * 60_000;

/**
 * twilio's HTTP client, with two changes: requests to *.twilio.com go to
 * `apiUrl` when set (tests point it at a local mock of Twilio's REST API), and
 * failures become `ProviderError`s classified for the outbox, keeping the
 * Retry-After header that twilio's own RestException drops.
 */
export class TwilioHttpClient extends twilio.RequestClient {
  private readonly apiUrl: URL | null;

  constructor(apiUrl: string | null, timeoutMs: number) {
    super({ timeout: timeoutMs, keepAlive: true });
    this.apiUrl = apiUrl ? new URL(apiUrl) : null;
  }

  override async request<TData>(opts: RequestClientNS.RequestOptions<TData>): Promise<any> {
    const uri = this.rewrite(opts.uri);
    let response: RawResponse;
    try {
      response = (await super.request<TData>({ ...opts, uri })) as unknown as RawResponse;
    } catch (error) {
      throw classifyNetworkFailure(error as { code?: string; message?: string });
    }
    if (response.statusCode >= 400) {
      const body = parseBody(response.body);
      const retryAfter = response.headers['retry-after'];
      throw classifyHttpFailure(
        response.statusCode,
        body?.code != null ? String(body.code) : null,
        parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : null),
        `Twilio answered ${response.statusCode}${body?.message ? `: ${String(body.message)}` : ''}`,
      );
    }
    return response;
  }

  /** The URL a request for `uri` goes to: `apiUrl` in place of a *.twilio.com origin, when set. */
  rewrite(uri: string): string {
    if (!this.apiUrl) return uri;
    const url = new URL(uri);
    if (url.hostname !== 'twilio.com' && !url.hostname.endsWith('.twilio.com')) return uri;
    const base = this.apiUrl.pathname.replace(/\/+$/, '');
    return `${this.apiUrl.origin}${base}${url.pathname}${url.search}`;
  }
}

function parseBody(body: unknown): { code?: unknown; message?: unknown } | null {
  if (body && typeof body === 'object') return body as { code?: unknown; message?: unknown };
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as { code?: unknown; message?: unknown };
    } catch {
      return null;
    }
  }
  return null;
}

interface TwilioMessage {
  sid: string;
  status: string;
  errorCode: number | null;
  body: string;
  dateCreated: Date | null;
}

function toProviderMessage(message: TwilioMessage): ProviderMessage {
  return {
    sid: message.sid,
    status: fromTwilioStatus(message.status) ?? 'queued',
    errorCode: message.errorCode ? String(message.errorCode) : null,
  };
}

/** Twilio's Programmable Messaging through the official client. */
export class TwilioProvider implements MessagingProvider {
  readonly name = 'twilio' as const;
  private readonly client: twilio.Twilio;

  constructor(config: TwilioConfig, apiUrl: string | null) {
    this.client = twilio(config.accountSid, config.authToken, {
      httpClient: new TwilioHttpClient(apiUrl, config.requestTimeoutMs),
      autoRetry: false,
    });
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async sendSms(sms: OutboundSms): Promise<ProviderMessage> {
    const message = await this.client.messages.create({
      to: sms.to,
      from: sms.from,
      body: sms.body,
      statusCallback: sms.statusCallbackUrl,
    });
    return toProviderMessage(message as unknown as TwilioMessage);
  }

  /**
   * Twilio has no idempotency key for creating messages, so an earlier attempt
   * is found by SID when we have it, else among the latest messages between the
   * same two numbers by exact body and creation time.
   */
  async findSms(query: SentSmsQuery): Promise<ProviderMessage | null> {
    if (query.sid) {
      try {
        return toProviderMessage((await this.client.messages(query.sid).fetch()) as unknown as TwilioMessage);
      } catch (error) {
        if (error instanceof ProviderError && error.options.httpStatus === 404) return null;
        throw error;
      }
    }
    const recent = (await this.client.messages.list({ to: query.to, from: query.from, limit: 20 })) as unknown as TwilioMessage[];
    const since = query.since.getTime() - MATCH_SKEW_MS;
    const match = recent.find((m) => m.body === query.body && (!m.dateCreated || m.dateCreated.getTime() >= since));
    return match ? toProviderMessage(match) : null;
  }
}
