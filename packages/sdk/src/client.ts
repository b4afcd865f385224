import type { Channel, CorrespondenceEntry, Direction, Page, Patient, SessionInfo } from '@carecomms/core';
import type { CallsResource } from './calls.js';
import { EventsResource, type EventStreamTiming } from './events.js';
import { Transport, type TokenSource } from './transport.js';
import { lazyMethods } from './lazy-methods.js';
import type { VideoVisitsResource } from './video-visits.js';

export interface CareClientOptions {
  /** Origin (and optional path prefix) of the CareComms server, e.g. `https://comms.example.org`. */
  baseUrl: string;
  /** A fixed session token. Use `getToken` instead when tokens expire during the page's life. */
  token?: string | undefined;
  /** Called before each request, and once more after a 401, to get a current session token. */
  getToken?: TokenSource | undefined;
  /** A `fetch` to use instead of the global one (tests, instrumentation). */
  fetch?: typeof fetch | undefined;
  /** Reconnect and heartbeat timing of `events.subscribe`. */
  events?: EventStreamTiming | undefined;
}

/** Options every operation accepts. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Lets the request outlive the page (fetch's `keepalive`), e.g. ending a call from `pagehide`. */
  keepalive?: boolean | undefined;
}

export interface ListPatientsParams {
  /** Matches name, external id or phone. */
  q?: string | undefined;
  cursor?: string | null | undefined;
  limit?: number | undefined;
}

export interface ListCorrespondenceParams {
  patientId?: string | undefined;
  channel?: Channel | undefined;
  direction?: Direction | undefined;
  cursor?: string | null | undefined;
  limit?: number | undefined;
}

export interface SendMessageParams {
  body: string;
}

export interface SendMessageOptions extends CallOptions {
  /** Makes retries safe: the server sends at most one message per key. Generated when omitted. */
  idempotencyKey?: string | undefined;
}

export interface CareClient {
  readonly baseUrl: string;
  session: {
    get(options?: CallOptions): Promise<SessionInfo>;
  };
  patients: {
    list(params?: ListPatientsParams, options?: CallOptions): Promise<Page<Patient>>;
    get(id: string, options?: CallOptions): Promise<Patient>;
  };
  correspondence: {
    list(params?: ListCorrespondenceParams, options?: CallOptions): Promise<Page<CorrespondenceEntry>>;
  };
  messages: {
    send(patientId: string, params: SendMessageParams, options?: SendMessageOptions): Promise<CorrespondenceEntry>;
  };
  videoVisits: VideoVisitsResource;
  calls: CallsResource;
  events: Pick<EventsResource, 'subscribe'>;
}

/** Creates a typed client for the CareComms browser API. */
export function createCareClient(options: CareClientOptions): CareClient {
  const transport = new Transport(options);
  const client: CareClient = {
    baseUrl: transport.baseUrl,
    session: {
      get: (call = {}) => transport.json<SessionInfo>('/api/v1/session', call),
    },
    patients: {
      list: ({ q, cursor, limit } = {}, call = {}) =>
        transport.json<Page<Patient>>('/api/v1/patients', { ...call, query: { q, cursor, limit } }),
      get: (id, call = {}) => transport.json<Patient>(`/api/v1/patients/${encodeURIComponent(id)}`, call),
    },
    correspondence: {
      list: ({ patientId, channel, direction, cursor, limit } = {}, call = {}) =>
        transport.json<Page<CorrespondenceEntry>>('/api/v1/correspondence', {
          ...call,
          query: { patientId, channel, direction, cursor, limit },
        }),
    },
    messages: {
      send: (patientId, { body }, { idempotencyKey = crypto.randomUUID(), signal } = {}) =>
        transport.json<CorrespondenceEntry>(`/api/v1/patients/${encodeURIComponent(patientId)}/messages`, {
          method: 'POST',
          body: { body },
          // Always sent, so the one retry after a token refresh can never send twice.
          headers: { 'idempotency-key': idempotencyKey },
          signal,
        }),
    },
    // Loaded on first use: the widget's first paint does not carry code only a visit needs.
    videoVisits: lazyMethods<VideoVisitsResource>(['start', 'sendLink', 'end', 'session'], () =>
      import('./video-visits-api.js').then((m) => m.videoVisitsApi(transport, options.fetch)),
    ),
    calls: lazyMethods<CallsResource>(['start', 'connect', 'get', 'hold', 'resume', 'end', 'updateNotes', 'recordingUrl'], () =>
      import('./calls-api.js').then((m) => m.callsApi(transport, client, options.fetch)),
    ),
    // In the entry, not loaded on first use: every widget subscribes at once, and a separate chunk cost more bytes
    // (and two round trips, the chunk and its parser) than it kept off the first script.
    events: new EventsResource(transport, options.events),
  };
  return client;
}
