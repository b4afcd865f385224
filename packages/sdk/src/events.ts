import type { CareEvent, CareEventType } from '@carecomms/core';
import { createParser } from './sse-parser.js';
import { CareApiError } from './errors.js';
import type { Transport } from './transport.js';

export type CareEventHandler = (event: CareEvent) => void;

export type EventStreamState = 'connecting' | 'open' | 'reconnecting';

export interface SubscribeOptions {
  /** Resume after this event id (sent as `Last-Event-ID` on the first connection): for the client's first subscriber, which opens the stream. */
  lastEventId?: string | undefined;
  /** Connection failures and malformed events; the stream keeps reconnecting regardless. */
  onError?: ((error: unknown) => void) | undefined;
  /** Connection state changes, e.g. to show "reconnecting…". */
  onStateChange?: ((state: EventStreamState) => void) | undefined;
}

export interface EventStreamTiming {
  /** First reconnect delay; doubled per consecutive failure. The server's `retry:` replaces it. */
  retryDelayMs?: number;
  /** Upper bound for the reconnect delay. */
  maxRetryDelayMs?: number;
  /** Reconnect when nothing (not even a `: ping`) arrived for this long. */
  heartbeatTimeoutMs?: number;
}

type Subscriber = SubscribeOptions & { handler: CareEventHandler };
const report = (s: Subscriber, error: unknown) => (s.onError ?? console.error)(error);

const EVENT_TYPES: ReadonlySet<string> = new Set<CareEventType>([
  'correspondence.created',
  'correspondence.updated',
  'call.updated',
  'video.updated',
  'patient.updated',
]);

/**
 * `GET /api/v1/events` read with `fetch` rather than `EventSource`, because
 * `EventSource` cannot send an `Authorization` header.
 */
export class EventsResource {
  private readonly timing: Required<EventStreamTiming>;
  private readonly subs = new Set<Subscriber>();
  /** Stops the one connection, while anyone is subscribed. */
  private stop: AbortController | undefined;
  private state: EventStreamState = 'connecting';

  constructor(
    private readonly transport: Transport,
    timing: EventStreamTiming = {},
  ) {
    this.timing = { retryDelayMs: 1_000, maxRetryDelayMs: 30_000, heartbeatTimeoutMs: 45_000, ...timing };
  }

  /**
   * Calls `handler` for every realtime event until the returned function is
   * called. Reconnects with exponential back-off and resumes from the last
   * event seen, so no event is lost across a dropped connection.
   */
  subscribe(handler: CareEventHandler, options: SubscribeOptions = {}): () => void {
    const sub = { ...options, handler };
    this.subs.add(sub);
    // One connection for all of them: a browser opens few to a server (6 over HTTP/1.1), and a page holding a
    // stream per subscriber left none for its calls' requests. A later subscriber hears from when it joins.
    if (this.stop) options.onStateChange?.(this.state);
    else void this.run(options.lastEventId, (this.stop = new AbortController()).signal);
    return () => {
      if (this.subs.delete(sub) && !this.subs.size) {
        this.stop?.abort();
        this.stop = undefined;
      }
    };
  }

  private async run(from: string | undefined, stopped: AbortSignal): Promise<void> {
    const onError = (error: unknown) => this.subs.forEach((s) => report(s, error));
    // The state is kept (forEach's second argument, evaluated first) for subscribers who join an open stream.
    const onStateChange = (state: EventStreamState) => this.subs.forEach((s) => s.onStateChange?.(state), (this.state = state));
    let lastEventId = from ?? null;
    let retryDelay = this.timing.retryDelayMs;
    let failures = 0;
    let connectedBefore = false;

    while (!stopped.aborted) {
      onStateChange(connectedBefore ? 'reconnecting' : 'connecting');
      connectedBefore = true;
      const connection = new AbortController();
      const abortConnection = () => connection.abort();
      stopped.addEventListener('abort', abortConnection);
      let silentTimer: ReturnType<typeof setTimeout> | undefined;
      let timedOut = false;
      const armWatchdog = () => {
        clearTimeout(silentTimer);
        silentTimer = setTimeout(() => {
          timedOut = true;
          connection.abort();
        }, this.timing.heartbeatTimeoutMs);
      };

      try {
        const response = await this.transport.send('/api/v1/events', {
          accept: 'text/event-stream',
          headers: lastEventId ? { 'last-event-id': lastEventId } : {},
          signal: connection.signal,
        });
        if (!response.body || !/^text\/event-stream/i.test(response.headers.get('content-type') ?? '')) {
          await response.body?.cancel();
          throw new CareApiError({
            status: response.status,
            code: 'unexpected_response',
            detail: 'Not an event stream.',
          });
        }
        failures = 0;
        onStateChange('open');
        armWatchdog();
        const parser = createParser({
          onRetry: (ms) => {
            retryDelay = ms;
          },
          onEvent: (message) => {
            if (message.id !== undefined) lastEventId = message.id;
            if (!message.event || !EVENT_TYPES.has(message.event)) return;
            let data: unknown;
            try {
              data = JSON.parse(message.data);
            } catch (error) {
              // Not JSON: the SyntaxError says where.
              onError(error);
              return;
            }
            const event = { id: message.id ?? '', type: message.event as CareEventType, data };
            // Each subscriber apart: one that throws is told, and the others still hear of it.
            for (const s of this.subs) {
              try {
                s.handler(event);
              } catch (error) {
                report(s, error);
              }
            }
          },
        });
        const reader = response.body.pipeThrough(new TextDecoderStream('utf-8', { ignoreBOM: true })).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          armWatchdog();
          parser.feed(value);
        }
      } catch (error) {
        if (stopped.aborted) return;
        failures += 1;
        if (!timedOut) onError(error);
      } finally {
        clearTimeout(silentTimer);
        stopped.removeEventListener('abort', abortConnection);
      }
      if (stopped.aborted) return;
      const backoff = Math.min(this.timing.maxRetryDelayMs, retryDelay * 2 ** Math.max(0, failures - 1));
      // Jitter spreads reconnects when a server restart drops many clients at once.
      await sleep(failures === 0 ? retryDelay : backoff * (0.5 + Math.random() / 2), stopped);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
