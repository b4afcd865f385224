import type { CorrespondenceEntry, Patient } from '@carecomms/core';
import type { PatientSeat, VideoVisit } from '@carecomms/sdk';
import { newEntry } from './data.js';

type Role = 'practitioner' | 'patient';

interface FakeVisit {
  visit: VideoVisit;
  patient: Patient;
  joinToken: string;
  ended: boolean;
  /** The patient took their seat at some point (as the server, ending a visit they never joined logs it `no-answer`). */
  patientJoined: boolean;
  entry: CorrespondenceEntry;
  seats: Map<Role, ReadableStreamDefaultController<Uint8Array>>;
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const problem = (status: number, code: string, detail: string, extra: Record<string, unknown> = {}) =>
  new Response(JSON.stringify({ type: `https://carecomms.dev/problems/${code}`, title: code, status, code, detail, ...extra }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });

/**
 * The video part of the fake API: visits, join links, send-link and end, and
 * the sandbox's signal endpoint as an in-memory relay, so two sessions in one
 * test page make a real WebRTC call through it.
 */
export class FakeVideo {
  readonly visits: FakeVisit[] = [];
  /** Answer `POST /api/v1/join/:token` with this status instead (404, 410, 429…). */
  joinFailure: number | null = null;
  private encoder = new TextEncoder();
  private counter = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly patients: () => Patient[],
    private readonly practitionerId: () => string,
    /** Who the patient's join page says the visit is with. */
    private readonly host: () => { clinicName: string; practitionerName: string } = () => ({ clinicName: 'Harbourside Medical', practitionerName: 'Dr Amelia Lee' }),
  ) {}

  /** The seat token a test uses to be the patient of a visit. */
  patientToken(visitId: string): string {
    return `seat:patient:${visitId}`;
  }

  route(method: string, url: URL): Response | null {
    const path = url.pathname;
    let match = /^\/api\/v1\/patients\/([^/]+)\/video-visits$/.exec(path);
    if (match && method === 'POST') return this.start(decodeURIComponent(match[1]!));
    match = /^\/api\/v1\/video-visits\/([^/]+)\/(send-link|end)$/.exec(path);
    if (match) {
      const visit = this.visits.find((v) => v.visit.id === decodeURIComponent(match![1]!));
      if (!visit) return problem(404, 'not_found', 'Video visit not found');
      if (method !== 'POST') return null;
      return match[2] === 'end' ? this.end(visit) : this.sendLink(visit);
    }
    match = /^\/api\/v1\/join\/([^/]+)$/.exec(path);
    if (match && method === 'POST') return this.join(decodeURIComponent(match[1]!));
    return null;
  }

  /** The signal endpoint needs the request's headers (the seat token says who is speaking). */
  signal(method: string, url: URL, headers: Headers, body: unknown, signal: AbortSignal | undefined): Response | null {
    const match = /^\/api\/v1\/video-visits\/([^/]+)\/signal$/.exec(url.pathname);
    if (!match) return null;
    const visit = this.visits.find((v) => v.visit.id === decodeURIComponent(match[1]!));
    if (!visit) return problem(404, 'not_found', 'Video visit not found');
    if (visit.ended) return problem(410, 'visit_ended', 'This video visit has ended');
    const token = (headers.get('authorization') ?? '').replace(/^Bearer /, '');
    const role: Role | null = token === visit.visit.token ? 'practitioner' : token === this.patientToken(visit.visit.id) ? 'patient' : null;
    if (!role) return problem(401, 'unauthorized', 'Not a seat of this visit');
    if (method === 'POST') {
      const message = body as { type: string; data?: unknown };
      const delivered = this.deliver(visit, other(role), { ...message, from: role });
      return json({ delivered }, 202);
    }
    return this.seat(visit, role, signal);
  }

  private start(patientId: string): Response {
    const patient = this.patients().find((p) => p.id === patientId);
    if (!patient) return problem(404, 'not_found', 'Patient not found');
    const id = `visit-${++this.counter}`;
    const joinToken = `join-${this.counter}-${'x'.repeat(30)}`;
    const entry = newEntry({ patientId, patientName: patient.name, practitionerId: this.practitionerId(), channel: 'video', direction: 'outbound', status: 'created', body: null, contact: null });
    const visit: VideoVisit = {
      id,
      correspondenceId: entry.id,
      token: `seat:practitioner:${id}`,
      joinUrl: `${this.baseUrl}/join/${joinToken}`,
      expiresAt: new Date(Date.now() + 2 * 3600_000).toISOString(),
      provider: 'sandbox',
      roomName: `room-${id}`,
    };
    this.visits.push({ visit, patient, joinToken, ended: false, patientJoined: false, entry, seats: new Map() });
    return json(visit, 201);
  }

  private sendLink(visit: FakeVisit): Response {
    if (visit.ended) return problem(410, 'visit_ended', 'This video visit has ended');
    if (visit.patient.optedOut) return problem(409, 'opted_out', 'The patient has opted out of SMS');
    if (!visit.patient.phone) return problem(422, 'no_phone', 'The patient has no mobile number to text');
    return json(newEntry({ patientId: visit.patient.id, channel: 'sms', direction: 'outbound', status: 'queued', body: `Join here: ${visit.visit.joinUrl}`, contact: visit.patient.phone }), 202);
  }

  private end(visit: FakeVisit): Response {
    if (!visit.ended) {
      visit.ended = true;
      const started = Date.parse(visit.entry.createdAt);
      visit.entry = visit.patientJoined
        ? { ...visit.entry, status: 'completed', durationSeconds: Math.max(0, Math.round((Date.now() - started) / 1000)) }
        : { ...visit.entry, status: 'no-answer', durationSeconds: null };
      this.deliver(visit, 'patient', { type: 'bye', from: 'practitioner' });
      for (const seat of visit.seats.values()) this.close(seat);
      visit.seats.clear();
    }
    return json(visit.entry);
  }

  private join(token: string): Response {
    if (this.joinFailure === 429) return problem(429, 'rate_limited', 'Too many attempts', { retryAfterSeconds: 42 });
    if (this.joinFailure) return problem(this.joinFailure, this.joinFailure === 410 ? 'visit_ended' : 'not_found', 'Refused');
    const visit = this.visits.find((v) => v.joinToken === token);
    if (!visit) return problem(404, 'not_found', 'Join link not found');
    if (visit.ended) return problem(410, 'visit_ended', 'This video visit has ended');
    const seat: PatientSeat = {
      visitId: visit.visit.id,
      token: this.patientToken(visit.visit.id),
      provider: 'sandbox',
      roomName: visit.visit.roomName,
      expiresAt: visit.visit.expiresAt,
      ...this.host(),
    };
    return json(seat);
  }

  private seat(visit: FakeVisit, role: Role, signal: AbortSignal | undefined): Response {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const leave = () => {
      if (visit.seats.get(role) !== controller) return;
      visit.seats.delete(role);
      this.deliver(visit, other(role), { type: 'peer-left', from: role });
    };
    const stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
        const previous = visit.seats.get(role);
        if (previous) {
          this.send(previous, { type: 'replaced', from: role });
          this.close(previous);
        }
        visit.seats.set(role, c);
        if (role === 'patient') visit.patientJoined = true;
        c.enqueue(this.encoder.encode(': connected\n\n'));
        if (visit.seats.has(other(role))) {
          this.deliver(visit, other(role), { type: 'peer-joined', from: role });
          this.send(c, { type: 'peer-joined', from: other(role) });
        }
      },
      cancel: leave,
    });
    signal?.addEventListener('abort', () => {
      leave();
      this.close(controller);
    });
    return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
  }

  private deliver(visit: FakeVisit, to: Role, message: { type: string; from: Role; data?: unknown }): boolean {
    const seat = visit.seats.get(to);
    if (!seat) return false;
    this.send(seat, message);
    return true;
  }

  private send(seat: ReadableStreamDefaultController<Uint8Array>, message: { type: string; from: Role; data?: unknown }): void {
    try {
      seat.enqueue(this.encoder.encode(`event: ${message.type}\ndata: ${JSON.stringify(message)}\n\n`));
    } catch {
      // The reader went away.
    }
  }

  private close(seat: ReadableStreamDefaultController<Uint8Array>): void {
    try {
      seat.close();
    } catch {
      // Already closed.
    }
  }
}

const other = (role: Role): Role => (role === 'practitioner' ? 'patient' : 'practitioner');
