import type { Channel, CorrespondenceEntry, Direction, Page, Patient, SessionInfo } from '@carecomms/core';
import { EventsResource, type EventStreamTiming } from './events.js';
import { Transport, type TokenSource } from './transport.js';
import type { VideoSession, VideoSessionMedia } from './video/session.js';
import type { VideoVisit } from './video-visits.js';

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
  videoVisits: {
    /** Starts a visit: a two-seat room, the practitioner's token and the patient's join link. */
    start(patientId: string, options?: CallOptions): Promise<VideoVisit>;
    /** Texts the patient a join link (SMS rules apply: `opted_out`, `no_phone`); returns the queued SMS entry. */
    sendLink(visitId: string, options?: CallOptions): Promise<CorrespondenceEntry>;
    /** Ends the visit for both sides; returns the completed video entry with its duration. Safe to repeat. */
    end(visitId: string, options?: CallOptions): Promise<CorrespondenceEntry>;
    /**
     * The practitioner's side of a started visit, not yet connected: add listeners, then `connect()`.
     * Its code (and `twilio-video`, on Twilio) loads only now.
     */
    session(visit: VideoVisit, media: VideoSessionMedia): Promise<VideoSession>;
  };
  events: Pick<EventsResource, 'subscribe'>;
}

/** Creates a typed client for the CareComms browser API. */
export function createCareClient(options: CareClientOptions): CareClient {
  const transport = new Transport(options);
  const events = new EventsResource(transport, options.events);
  return {
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
    videoVisits: {
      start: (patientId, call = {}) =>
        transport.json<VideoVisit>(`/api/v1/patients/${encodeURIComponent(patientId)}/video-visits`, { ...call, method: 'POST' }),
      sendLink: (visitId, call = {}) =>
        transport.json<CorrespondenceEntry>(`/api/v1/video-visits/${encodeURIComponent(visitId)}/send-link`, { ...call, method: 'POST' }),
      end: (visitId, call = {}) =>
        transport.json<CorrespondenceEntry>(`/api/v1/video-visits/${encodeURIComponent(visitId)}/end`, { ...call, method: 'POST' }),
      session: (visit, media) =>
        import('./video/session.js').then(
          ({ VideoSession }) =>
            new VideoSession({
              ...media,
              provider: visit.provider,
              role: 'practitioner',
              baseUrl: transport.baseUrl,
              visitId: visit.id,
              token: visit.token,
              roomName: visit.roomName,
              fetch: options.fetch,
            }),
        ),
    },
    events: { subscribe: events.subscribe.bind(events) },
  };
}
