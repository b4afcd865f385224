import type { CareEventType, CorrespondenceEntry, Patient, SessionInfo } from '@carecomms/core';
import { createCareClient, type CareClient } from '@carecomms/sdk';
import { makeEntries, newEntry, patients as defaultPatients, session as defaultSession } from './data.js';
import { FakeCalls } from './fake-calls.js';
import { FakeVideo } from './fake-video.js';

export interface FakeServerOptions {
  session?: SessionInfo;
  patients?: Patient[];
  entries?: CorrespondenceEntry[];
  /** Answer every request after this many milliseconds. */
  latencyMs?: number;
  /** Make matching requests fail, e.g. `{ 'GET /api/v1/correspondence': 500 }`; a 429 is `rate_limited`, with `retryAfterSeconds`. */
  failures?: Record<string, number>;
  /** The `retryAfterSeconds` of a 429 failure (default 3). */
  retryAfterSeconds?: number;
  /** Keep matching requests pending forever (to show loading states). */
  hang?: string[];
}

export interface FakeRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: unknown;
  keepalive: boolean;
}

const BASE_URL = 'https://carecomms.test';

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const problem = (status: number, code: string, detail: string, extra: Record<string, unknown> = {}) =>
  new Response(JSON.stringify({ type: `https://carecomms.dev/problems/${code}`, title: code, status, code, detail, ...extra }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });

/**
 * An in-memory CareComms API behind a fake `fetch`, for tests and stories:
 * keyset pagination, search, SMS sending rules and a live event stream that
 * the caller feeds with `emit()`.
 */
export class FakeServer {
  readonly session: SessionInfo;
  readonly patients: Patient[];
  entries: CorrespondenceEntry[];
  readonly requests: FakeRequest[] = [];
  /** Calls: the REST side, and the sessions `client.calls.connect` hands out. */
  readonly calls: FakeCalls;
  /** Video visits and the sandbox signal relay. */
  readonly video: FakeVideo;
  options: FakeServerOptions;
  private streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  private eventId = 0;
  private encoder = new TextEncoder();

  constructor(options: FakeServerOptions = {}) {
    this.options = options;
    this.session = options.session ?? defaultSession;
    this.patients = options.patients ?? defaultPatients;
    this.entries = options.entries ?? makeEntries(12);
    this.calls = new FakeCalls(
      () => this.patients,
      () => this.session.practitioner.id,
      (entry) => {
        this.entries.unshift(entry);
        this.emit('correspondence.created', entry);
      },
    );
    this.video = new FakeVideo(
      BASE_URL,
      () => this.patients,
      () => this.session.practitioner.id,
      () => ({ clinicName: this.session.tenant.name, practitionerName: this.session.practitioner.name }),
    );
  }

  readonly fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    const method = init.method ?? 'GET';
    const request: FakeRequest = {
      method,
      url,
      headers: new Headers(init.headers),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      keepalive: init.keepalive === true,
    };
    this.requests.push(request);
    const route = `${method} ${url.pathname}`;
    if (this.options.hang?.includes(route)) return new Promise<Response>(() => {});
    if (this.options.latencyMs) await new Promise((r) => setTimeout(r, this.options.latencyMs));
    init.signal?.throwIfAborted();
    const failure = this.options.failures?.[route];
    if (failure !== undefined) {
      if (failure === 0) throw new TypeError('Failed to fetch');
      if (failure === 429) {
        const retryAfterSeconds = this.options.retryAfterSeconds ?? 3;
        return problem(429, 'rate_limited', `Too many attempts; try again in ${retryAfterSeconds} seconds`, { retryAfterSeconds });
      }
      return failure === 404 ? problem(404, 'not_found', 'Patient not found') : problem(failure, 'server_error', 'Something went wrong on the server.');
    }
    return this.route(request, init.signal ?? undefined);
  };

  /** A client wired to this server. */
  client(): CareClient {
    return this.calls.wire(createCareClient({ baseUrl: BASE_URL, token: 'test-token', fetch: this.fetch, events: { retryDelayMs: 50 } }));
  }

  /** Number of open event streams. */
  get listeners(): number {
    return this.streams.size;
  }

  /** Sends an event to every open stream. */
  emit(type: CareEventType, data: unknown): void {
    const chunk = this.encoder.encode(`id: ${++this.eventId}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    for (const stream of this.streams) stream.enqueue(chunk);
  }

  /** Creates an entry as an inbound SMS would, and announces it. */
  receive(overrides: Partial<CorrespondenceEntry> = {}): CorrespondenceEntry {
    const entry = newEntry(overrides);
    this.entries.unshift(entry);
    this.emit('correspondence.created', entry);
    return entry;
  }

  /** Requests made to a path, e.g. `/api/v1/correspondence`. */
  requestsTo(path: string): FakeRequest[] {
    return this.requests.filter((r) => r.url.pathname === path);
  }

  private route(request: FakeRequest, signal: AbortSignal | undefined): Response {
    const { method, url } = request;
    const path = url.pathname;
    const params = url.searchParams;
    const call = this.calls.route(method, url, request.body);
    if (call) return call;
    const video = this.video.signal(method, url, request.headers, request.body, signal) ?? this.video.route(method, url);
    if (video) return video;
    if (method === 'GET' && path === '/api/v1/session') return json(this.session);
    if (method === 'GET' && path === '/api/v1/patients') {
      const q = (params.get('q') ?? '').toLowerCase();
      const found = this.patients.filter(
        (p) => !q || p.name.toLowerCase().includes(q) || (p.phone ?? '').includes(q.replace(/\s/g, '')),
      );
      return json(this.page(found, params));
    }
    const patientMatch = path.match(/^\/api\/v1\/patients\/([^/]+)(\/messages)?$/);
    if (patientMatch) {
      const patient = this.patients.find((p) => p.id === decodeURIComponent(patientMatch[1]!));
      if (!patient) return problem(404, 'not_found', 'No such patient.');
      if (method === 'GET' && !patientMatch[2]) return json(patient);
      if (method === 'POST' && patientMatch[2]) return this.sendMessage(patient, request);
    }
    if (method === 'GET' && path === '/api/v1/correspondence') {
      const found = this.entries.filter(
        (e) =>
          (!params.get('patientId') || e.patientId === params.get('patientId')) &&
          (!params.get('channel') || e.channel === params.get('channel')) &&
          (!params.get('direction') || e.direction === params.get('direction')),
      );
      return json(this.page(found, params));
    }
    if (method === 'GET' && path === '/api/v1/events') return this.eventStream(signal);
    return problem(404, 'not_found', `No route ${method} ${path}`);
  }

  private page<T>(items: T[], params: URLSearchParams) {
    const start = Number(params.get('cursor') ?? 0);
    const limit = Number(params.get('limit') ?? 50);
    const slice = items.slice(start, start + limit);
    return { items: slice, nextCursor: start + limit < items.length ? String(start + limit) : null };
  }

  private sendMessage(patient: Patient, request: FakeRequest): Response {
    const body = (request.body as { body?: string } | undefined)?.body ?? '';
    if (patient.optedOut) return problem(409, 'opted_out', 'This patient has opted out of SMS.');
    if (!patient.phone) return problem(422, 'no_phone', 'This patient has no mobile number.');
    if (!body.trim()) return problem(422, 'validation_failed', 'A message body is required.');
    const entry = newEntry({
      patientId: patient.id,
      practitionerId: this.session.practitioner.id,
      direction: 'outbound',
      status: 'queued',
      body,
      contact: patient.phone,
    });
    this.entries.unshift(entry);
    return json(entry, 202);
  }

  private eventStream(signal: AbortSignal | undefined): Response {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
        this.streams.add(c);
        c.enqueue(this.encoder.encode(': connected\n\n'));
      },
      cancel: () => {
        this.streams.delete(controller);
      },
    });
    signal?.addEventListener('abort', () => {
      this.streams.delete(controller);
      try {
        controller.error(signal.reason);
      } catch {
        // Already closed by the reader.
      }
    });
    return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
  }
}
