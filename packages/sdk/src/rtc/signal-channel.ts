import { createParser } from '../sse-parser.js';
import { CareApiError } from '../errors.js';

export type RtcRole = 'practitioner' | 'patient';

/** A signalling message between the two browsers of a sandbox call or visit (mirrors the server's). */
export interface SignalMessage {
  type: 'peer-joined' | 'peer-left' | 'replaced' | 'offer' | 'answer' | 'candidate' | 'hold' | 'resume' | 'mute' | 'bye';
  from: RtcRole;
  data?: unknown;
}

export interface SignalChannel {
  send(message: Omit<SignalMessage, 'from'>): Promise<void>;
  /** Delivers messages until the returned function is called; reconnects after drops. */
  subscribe(handlers: SignalHandlers): () => void;
}

export interface SignalHandlers {
  message(message: SignalMessage): void;
  /** The stream dropped; it is reconnecting. */
  drop?(): void;
  /** The seat is gone for good (refused, expired, ended); no reconnect follows. */
  end?(error: CareApiError): void;
}

export interface SignalChannelOptions {
  /** The seat's signal URL (GET streams, POST sends). */
  url: string;
  /** Headers for each request, e.g. the bearer token that proves the seat. */
  headers?: () => Promise<Record<string, string>> | Record<string, string>;
  fetch?: typeof fetch;
}

/** A signalling channel over HTTP: POST to send, a Server-Sent Events stream to receive. */
export function createSignalChannel(options: SignalChannelOptions): SignalChannel {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const headers = async () => (await options.headers?.()) ?? {};
  // Sends go out one after another: an offer must reach the other side before its ICE candidates.
  let sending: Promise<unknown> = Promise.resolve();
  return {
    send(message) {
      const sent = sending.then(async () => {
        const response = await fetchImpl(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(await headers()) },
          body: JSON.stringify(message),
        });
        if (!response.ok) throw await CareApiError.fromResponse(response);
      });
      sending = sent.catch(() => undefined);
      return sent;
    },
    subscribe(handlers) {
      const stop = new AbortController();
      void (async () => {
        let delay = 500;
        while (!stop.signal.aborted) {
          try {
            const response = await fetchImpl(options.url, { headers: { accept: 'text/event-stream', ...(await headers()) }, signal: stop.signal });
            if (!response.ok || !response.body) throw await CareApiError.fromResponse(response);
            delay = 500;
            let ended = false;
            const parser = createParser({
              onEvent: (event) => {
                const message = JSON.parse(event.data) as SignalMessage;
                if (message.type === 'replaced' || message.type === 'bye') ended = true;
                handlers.message(message);
              },
            });
            const reader = response.body.pipeThrough(new TextDecoderStream('utf-8', { ignoreBOM: true })).getReader();
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              parser.feed(value);
            }
            // The seat was taken by another device or the session ended: do not fight for it.
            if (ended) return;
          } catch (error) {
            if (stop.signal.aborted) return;
            // A seat that no longer exists (call over, link expired) will not come back.
            if (error instanceof CareApiError && error.status >= 400 && error.status < 500) {
              handlers.end?.(error);
              return;
            }
          }
          if (stop.signal.aborted) return;
          handlers.drop?.();
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(delay * 2, 8000);
        }
      })();
      return () => stop.abort();
    },
  };
}
