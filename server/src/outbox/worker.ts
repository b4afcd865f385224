import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database.js';
import { perTurn } from '../db/batch.js';
import type { Knex } from '../db/knex.js';
import type { Logger } from '../logger.js';
import type { OutboxConfig } from '../config.js';
import { OUTBOX_CHANNEL, type ClaimedRow } from '../repositories/outbox.js';
import type { Repositories } from '../repositories/index.js';
import { ProviderError, type MessagingProvider, type OutboundSms, type ProviderMessage } from '../providers/types.js';
import type { SmsService, SystemActor } from '../services/sms.js';

const MAX_BACKOFF_MS = 5 * 60_000;
const PRUNE_EVERY_MS = 3600_000;
const KEEP_FINISHED_MS = 7 * 24 * 3600_000;

/** Exponential back-off with jitter; never sooner than the provider's Retry-After. */
export function retryDelay(attempt: number, baseMs: number, retryAfterMs: number | null, random: () => number = Math.random): number {
  const exponential = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exponential / 2 + (exponential / 2) * random();
  return Math.max(jittered, retryAfterMs ?? 0);
}

/**
 * Sends what the outbox holds. Every server instance runs one; they share the
 * queue through SKIP LOCKED claims. Idle, it sleeps for `pollMs` or until a
 * NOTIFY says a row was added; it never spins.
 */
export class OutboxWorker {
  readonly workerId = `outbox-${process.pid}-${randomUUID().slice(0, 8)}`;
  private stopped = true;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private poked = false;
  private unlisten: (() => Promise<void>) | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private readonly actor: SystemActor = { type: 'system', id: 'outbox', requestId: null, ip: null };
  /** Sent rows to mark done: one statement per turn of the event loop for all of them; true for each row this worker still held. */
  private readonly sentRows = perTurn(async (ids: readonly string[]) => {
    const held = new Set(await this.deps.repos.outbox.finish([...ids], this.workerId, 'done'));
    return ids.map((id) => held.has(id));
  });

  constructor(
    private readonly deps: {
      db: Database;
      repos: Repositories;
      sms: SmsService;
      provider: MessagingProvider;
      config: OutboxConfig;
      baseUrl: string;
      logger: Logger;
      random?: () => number;
    },
  ) {}

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.unlisten = await this.deps.db.listen(
      OUTBOX_CHANNEL,
      () => this.poke(),
      (error) => this.deps.logger.error({ err: { message: error.message } }, 'outbox listener failed'),
    );
    this.loop = this.run();
    this.pruneTimer = setInterval(() => {
      this.deps.repos.outbox.pruneFinishedBefore(new Date(Date.now() - KEEP_FINISHED_MS)).catch(() => undefined);
    }, PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  /** Stops claiming and waits for the sends in progress to finish. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.wake?.();
    await this.loop;
    this.loop = null;
    await this.unlisten?.();
    this.unlisten = null;
  }

  /** Claims due rows for this worker (exposed so tests can play a worker that dies after claiming). */
  claim(limit: number): Promise<ClaimedRow[]> {
    return this.deps.repos.outbox.claim(limit, this.deps.config.leaseMs, this.workerId);
  }

  private poke(): void {
    this.poked = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    // Each send holds one of `concurrency` slots and frees it when done, so one slow or hung provider request
    // (up to TWILIO_TIMEOUT_MS) holds up only its own slot, not every message behind it.
    const inFlight = new Set<Promise<void>>();
    while (!this.stopped) {
      this.poked = false;
      const free = this.deps.config.concurrency - inFlight.size;
      let claimed = 0;
      if (free > 0) {
        try {
          const rows = await this.claim(free);
          claimed = rows.length;
          for (const row of rows) {
            const work: Promise<void> = this.process(row)
              // The row stays claimed, in flight, until its lease ends; then it is checked with the provider and retried.
              .catch((error: Error) => this.deps.logger.error({ err: { message: error.message } }, 'outbox row failed'))
              .finally(() => {
                inFlight.delete(work);
                this.wake?.();
              });
            inFlight.add(work);
          }
        } catch (error) {
          this.deps.logger.error({ err: { message: (error as Error).message } }, 'outbox claim failed');
        }
      }
      if (this.stopped) break;
      // Full, or nothing due: wait for a free slot, a new row (NOTIFY) or the next poll.
      if ((free <= 0 || claimed < free) && !this.poked) await this.sleep(this.deps.config.pollMs);
    }
    await Promise.allSettled([...inFlight]);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  private async process(row: ClaimedRow): Promise<void> {
    const { repos, sms, provider, logger } = this.deps;
    const log = logger.child({ outboxId: row.id, attempt: row.attempts });
    // The claim brought the entry, its tenant and its patient along (one query for both).
    const { entry, tenant, patient } = row;
    // Nothing left to do: gone, or already past queued with the provider (e.g. its webhook came first).
    if (!entry || (entry.status !== 'queued' && entry.provider_sid) || entry.status === 'failed') {
      await this.finish(row, 'done');
      return;
    }
    if (!tenant || !patient || !entry.contact || entry.body === null) {
      await this.fail(row, entry.id, 'invalid_entry', 'entry has no recipient or body');
      return;
    }
    // A practitioner's message queued before the patient replied STOP is not sent (Twilio would refuse it with 21610).
    if (patient.opted_out && entry.practitioner_id !== null) {
      await this.fail(row, entry.id, '21610', 'patient opted out before sending');
      return;
    }
    const outbound: OutboundSms = {
      reference: entry.id,
      to: entry.contact,
      from: sms.senderNumber(tenant),
      body: entry.body,
      statusCallbackUrl: `${this.deps.baseUrl}/webhooks/twilio/sms-status?ref=${entry.id}`,
    };

    // Whether the earlier attempt's outcome is still unknown after this one.
    let unresolved = row.was_in_flight;
    try {
      let message: ProviderMessage | null = null;
      if (row.was_in_flight || entry.provider_sid) {
        message = await provider.findSms({ ...outbound, sid: entry.provider_sid, since: new Date(row.created_at) });
        unresolved = false;
        if (message) log.info('earlier attempt had reached the provider; not sending again');
      }
      message ??= await provider.sendSms(outbound);
      // The usual answer, 'queued' for a queued entry, is one statement; anything else is a status report like a webhook's,
      // applied in a transaction that also ends the outbox row.
      if (message.status === 'queued' && (await sms.recordAccepted({ id: entry.id, tenantId: row.tenant_id }, message.sid, this.actor))) {
        await this.finishSent(row);
      } else {
        await sms.applyStatus({ reference: entry.id, sid: message.sid, status: message.status, errorCode: message.errorCode }, this.actor, (trx) =>
          this.finish(row, 'done', null, trx),
        );
      }
    } catch (error) {
      const failure =
        error instanceof ProviderError ? error : new ProviderError('ambiguous', `unexpected: ${(error as Error).message}`);
      if (failure.kind === 'permanent') {
        log.warn({ code: failure.code }, 'provider refused the message');
        await this.fail(row, entry.id, failure.code ?? 'provider_error', failure.message);
        return;
      }
      if (row.attempts >= this.deps.config.maxAttempts) {
        log.warn({ code: failure.code }, 'giving up after the last attempt');
        await this.fail(row, entry.id, failure.code ?? 'provider_unavailable', failure.message);
        return;
      }
      const delay = retryDelay(row.attempts, this.deps.config.retryBaseMs, failure.retryAfterMs, this.deps.random);
      log.info({ kind: failure.kind, delayMs: Math.round(delay) }, 'send failed; will retry');
      await repos.outbox.retryLater(row.id, this.workerId, delay, unresolved || failure.kind === 'ambiguous', failure.message);
    }
  }

  private async fail(row: ClaimedRow, correspondenceId: string, code: string, reason: string): Promise<void> {
    await this.deps.sms.applyStatus({ reference: correspondenceId, status: 'failed', errorCode: code }, this.actor, (trx) => this.finish(row, 'failed', reason, trx));
  }

  /**
   * Marks a sent row done together with the other sends that finished in the
   * same turn of the event loop. Should this fail, or the process die first,
   * the row's lease runs out and the next attempt finds the message at the
   * provider (the row is in flight), records it and sends nothing twice.
   */
  private async finishSent(row: ClaimedRow): Promise<void> {
    if (!(await this.sentRows.load(row.id))) this.leaseLost(row);
  }

  private async finish(row: ClaimedRow, state: 'done' | 'failed', reason: string | null = null, db?: Knex): Promise<void> {
    const held = await this.deps.repos.outbox.finish([row.id], this.workerId, state, reason, db);
    if (held.length === 0) this.leaseLost(row);
  }

  private leaseLost(row: ClaimedRow): void {
    this.deps.logger.warn({ outboxId: row.id }, 'outbox lease expired before the row was finished');
  }
}
