import { PassThrough } from 'node:stream';
import type { Context } from 'koa';

const HEARTBEAT_MS = 15_000;

export interface EventStream {
  stream: PassThrough;
  /** Runs `cleanup` once when the stream ends, whoever ends it (the client leaving, the server, a shutdown). */
  onClose(cleanup: () => void): void;
}

/**
 * Answers `ctx` with a Server-Sent Events stream: no buffering or caching on
 * the way, a comment heartbeat so proxies keep it open, and the client's
 * reconnect delay. `streams` holds every open stream, so a shutdown can end
 * them all.
 */
export function openEventStream(ctx: Context, { retryMs, streams }: { retryMs: number; streams?: Set<PassThrough> }): EventStream {
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  ctx.req.socket.setKeepAlive(true);
  ctx.set({ 'Cache-Control': 'no-store, no-transform', 'X-Accel-Buffering': 'no' });
  ctx.type = 'text/event-stream';
  ctx.status = 200;
  const stream = new PassThrough();
  ctx.body = stream;
  streams?.add(stream);
  const heartbeat = setInterval(() => stream.write(': ping\n\n'), HEARTBEAT_MS);
  const cleanups: Array<() => void> = [() => clearInterval(heartbeat), () => streams?.delete(stream)];
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    for (const cleanup of cleanups.splice(0)) cleanup();
  };
  ctx.req.on('close', () => {
    close();
    stream.end();
  });
  stream.on('close', close);
  stream.write(`retry: ${retryMs}\n: connected\n\n`);
  return {
    stream,
    onClose(cleanup) {
      if (closed) cleanup();
      else cleanups.push(cleanup);
    },
  };
}
