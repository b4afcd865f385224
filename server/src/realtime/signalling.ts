import type { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import { openEventStream } from '../http/sse.js';

/** The two seats of a sandbox call or visit. */
export type RtcRole = 'practitioner' | 'patient';

/**
 * A message between the two browsers of a sandbox call or video visit: WebRTC
 * session descriptions and ICE candidates, plus presence the hub adds itself
 * (`peer-joined`, `peer-left`, `replaced`) and call-control hints (`hold`, `bye`).
 */
export interface SignalMessage {
  type: 'peer-joined' | 'peer-left' | 'replaced' | 'offer' | 'answer' | 'candidate' | 'hold' | 'resume' | 'mute' | 'bye';
  from: RtcRole;
  data?: unknown;
}

type Listener = (message: SignalMessage) => void;

interface Room {
  seats: Map<RtcRole, Listener>;
}

const other = (role: RtcRole): RtcRole => (role === 'practitioner' ? 'patient' : 'practitioner');

/**
 * Relays WebRTC signalling between the practitioner's browser and the
 * patient's (simulator phone or join page) for the sandbox provider, so calls
 * and visits are real two-party media with no Twilio. One listener per seat: a
 * second device taking a seat replaces the first rather than adding a stranger.
 * In memory: the sandbox is for one server instance (demo and tests).
 */
export class SignallingHub {
  private readonly rooms = new Map<string, Room>();

  /** Takes `role`'s seat in `room`; returns a function that leaves it. */
  join(room: string, role: RtcRole, listener: Listener): () => void {
    let state = this.rooms.get(room);
    if (!state) this.rooms.set(room, (state = { seats: new Map() }));
    const previous = state.seats.get(role);
    if (previous) previous({ type: 'replaced', from: role });
    state.seats.set(role, listener);
    const peer = state.seats.get(other(role));
    if (peer) {
      peer({ type: 'peer-joined', from: role });
      listener({ type: 'peer-joined', from: other(role) });
    }
    return () => {
      const current = this.rooms.get(room);
      if (!current || current.seats.get(role) !== listener) return;
      current.seats.delete(role);
      current.seats.get(other(role))?.({ type: 'peer-left', from: role });
      if (current.seats.size === 0) this.rooms.delete(room);
    };
  }

  /** Sends to the other seat; false when nobody is there. */
  send(room: string, message: SignalMessage): boolean {
    const peer = this.rooms.get(room)?.seats.get(other(message.from));
    if (!peer) return false;
    peer(message);
    return true;
  }

  isPresent(room: string, role: RtcRole): boolean {
    return this.rooms.get(room)?.seats.has(role) ?? false;
  }

  /** Ends a room: both seats hear `bye` and are released. */
  close(room: string, from: RtcRole): void {
    const state = this.rooms.get(room);
    if (!state) return;
    for (const [role, listener] of state.seats) if (role !== from) listener({ type: 'bye', from });
    this.rooms.delete(room);
  }
}

/**
 * Serves one seat as a Server-Sent Events stream on a Koa context; the stream
 * ends when the client goes away or its seat is taken by another device.
 * `streams` holds every open stream, so a shutdown can end them all.
 */
export function streamSeat(ctx: Context, hub: SignallingHub, room: string, role: RtcRole, { streams, onLeave }: { streams?: Set<PassThrough>; onLeave?: () => void } = {}): void {
  const { stream, onClose } = openEventStream(ctx, { retryMs: 2000, streams });
  const leave = hub.join(room, role, (message) => {
    stream.write(`event: ${message.type}\ndata: ${JSON.stringify(message)}\n\n`);
    if (message.type === 'replaced' || message.type === 'bye') stream.end();
  });
  onClose(() => {
    leave();
    onLeave?.();
  });
}
