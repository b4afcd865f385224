import { randomBytes } from 'node:crypto';
import type { SandboxConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { SandboxMessageRow, SandboxRepository } from '../repositories/sandbox.js';
import type { InboundSms, StatusUpdate } from '../services/sms.js';
import { smsKeyword, type SmsKeyword } from '../services/sms-keywords.js';
import { fromTwilioStatus, ProviderError, type MessagingProvider, type OutboundSms, type ProviderMessage, type SentSmsQuery } from './types.js';

/**
 * Twilio's magic test numbers (https://www.twilio.com/docs/iam/test-credentials):
 * sending to one fails permanently with the same error code Twilio gives.
 */
export const SANDBOX_FAILING_NUMBERS: Record<string, string> = {
  '+15005550001': '21211',
  '+15005550002': '21612',
  '+15005550003': '21408',
  '+15005550004': '21610',
  '+15005550009': '21614',
};

/**
 * Twilio's own default replies to its opt-out and opt-in keywords on a long
 * code (https://help.twilio.com/articles/223134027). Twilio sends them itself:
 * no webhook, no status callback, not in our correspondence. HELP is left out:
 * the clinic's help reply comes from our app.
 */
export const TWILIO_KEYWORD_REPLIES: Partial<Record<SmsKeyword, string>> = {
  opt_out: 'You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.',
  opt_in: 'You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.',
};

/** Where the sandbox reports, through the same code paths Twilio's webhooks use. */
export interface SandboxSinks {
  status(update: StatusUpdate): Promise<unknown>;
  inbound(sms: InboundSms): Promise<unknown>;
}

export const newSid = () => `SM${randomBytes(16).toString('hex')}`;

/**
 * A stand-in for Twilio with no external service: messages land in a per-phone
 * inbox in the database (seen on /sandbox/phone), statuses move queued → sent →
 * delivered after `latencyMs` each, reported through the same status handling
 * as Twilio's webhook, and `failRate` makes sends fail transiently (as a 429).
 * Like Twilio it has no idempotency: a repeated send is a second message.
 */
export class SandboxProvider implements MessagingProvider {
  readonly name = 'sandbox' as const;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(
    private readonly repo: SandboxRepository,
    private readonly config: SandboxConfig,
    private readonly sinks: SandboxSinks,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  /** Picks up messages a previous process left part-way (killed between queued and delivered). */
  async start(): Promise<void> {
    this.stopped = false;
    for (const row of await this.repo.unfinishedToPhone()) {
      this.progress(row.sid, row.reference ?? '', row.status === 'queued' ? ['sent', 'delivered'] : ['delivered']);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  async sendSms(sms: OutboundSms): Promise<ProviderMessage> {
    if (this.config.failRate > 0 && this.random() < this.config.failRate) {
      throw new ProviderError('transient', 'sandbox: simulated 429 Too Many Requests', { code: '20429', httpStatus: 429 });
    }
    const failing = SANDBOX_FAILING_NUMBERS[sms.to];
    if (failing) throw new ProviderError('permanent', `sandbox: Twilio error ${failing}`, { code: failing, httpStatus: 400 });
    const row = await this.repo.insert({
      sid: newSid(),
      phone: sms.to,
      clinic_number: sms.from,
      direction: 'to_phone',
      body: sms.body,
      status: 'queued',
      reference: sms.reference,
    });
    this.progress(row.sid, sms.reference, ['sent', 'delivered']);
    return { sid: row.sid, status: 'queued', errorCode: null };
  }

  async findSms(query: SentSmsQuery): Promise<ProviderMessage | null> {
    const row = query.sid ? await this.repo.findBySid(query.sid) : (await this.repo.findByReference(query.reference))[0];
    return row ? toProviderMessage(row) : null;
  }

  /** A text from the patient's phone, handled exactly as Twilio's inbound webhook would be. */
  async receiveFromPhone(sms: { from: string; to: string; body: string }): Promise<SandboxMessageRow> {
    const row = await this.repo.insert({
      sid: newSid(),
      phone: sms.from,
      clinic_number: sms.to,
      direction: 'from_phone',
      body: sms.body,
      status: 'received',
      reference: null,
    });
    // Twilio answers STOP / START itself, whatever our webhook does: straight into the phone's inbox, delivered.
    const keyword = smsKeyword(sms.body);
    const reply = keyword && TWILIO_KEYWORD_REPLIES[keyword];
    if (reply) {
      await this.repo.insert({ sid: newSid(), phone: sms.from, clinic_number: sms.to, direction: 'to_phone', body: reply, status: 'delivered', reference: null });
    }
    await this.track(this.sinks.inbound({ sid: row.sid, from: sms.from, to: sms.to, body: sms.body }));
    return row;
  }

  private progress(sid: string, reference: string, steps: Array<'sent' | 'delivered'>): void {
    const [next, ...rest] = steps;
    if (!next || this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.track(
        (async () => {
          await this.repo.setStatus(sid, next);
          await this.sinks.status({ reference, sid, status: next });
          this.progress(sid, reference, rest);
        })().catch((error: Error) => this.logger.warn({ err: { message: error.message } }, 'sandbox status step failed')),
      );
    }, this.config.latencyMs);
    this.timers.add(timer);
  }

  private async track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    try {
      return await work;
    } finally {
      this.running.delete(work);
    }
  }
}

function toProviderMessage(row: SandboxMessageRow): ProviderMessage {
  return { sid: row.sid, status: fromTwilioStatus(row.status) ?? 'queued', errorCode: row.error_code };
}
