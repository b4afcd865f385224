/**
 * The paced (open-loop) load generator behind bench/lib.ts `pacedLoad()`: a
 * process of its own that offers a fixed rate of requests over a fixed number
 * of keep-alive connections, as a provider's webhook fleet or a clinic's
 * browsers do: they send when they have something to send, not when the last
 * answer came. autocannon drives a closed loop (each connection sends its next
 * request when its last is answered), where at saturation the mean latency is
 * just connections ÷ throughput, and its `overallRate` sends each second's
 * requests in a burst at the start of that second.
 *
 * Request k (k = 0, 1, …) is due at start + k ÷ rate and goes on connection
 * k mod connections, so each connection sends one every connections ÷ rate
 * seconds, staggered from the others. A request's latency is from the time it
 * was due to the end of its answer, so a request held back because the one
 * before it on its connection was late is charged the wait too (as wrk2 does,
 * against coordinated omission).
 *
 * It writes HTTP/1.1 on plain sockets and reads answers by their
 * Content-Length, as autocannon does: node:http's client cost about 300 µs
 * of CPU a request, on the cores the measured server shares, where this costs
 * a fraction of that.
 *
 * Settings come as JSON in BENCH_PACED: { url, connections, rate, seconds,
 * warmupSeconds, request: { method, path, setupRequest } }, setupRequest as
 * for autocannon (the path of a CommonJS module). Prints the measured run's
 * figures as JSON on stdout. With BENCH_PACED_TRACE set to a file path, it
 * also writes each measured request's [due time (ms since the epoch),
 * latency (ms)] there, to line slow answers up with the server's pauses.
 */
import net from 'node:net';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { url, connections, rate, seconds, warmupSeconds, request } = JSON.parse(process.env.BENCH_PACED);
const target = new URL(url);
const setupRequest = request.setupRequest ? require(request.setupRequest) : (req) => req;

/** The next request's bytes. */
function nextRequest() {
  const made = setupRequest({ method: request.method ?? 'GET', path: request.path ?? target.pathname, headers: {} });
  const body = made.body ?? '';
  let head = `${made.method} ${made.path} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: keep-alive\r\n`;
  for (const [name, value] of Object.entries(made.headers ?? {})) head += `${name}: ${value}\r\n`;
  head += `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return head + body;
}

/** One keep-alive connection: one request at a time; requests due while one is out wait their turn. */
class Connection {
  constructor(onAnswer) {
    this.onAnswer = onAnswer;
    this.waiting = [];
    this.due = null;
    this.buffer = '';
    this.socket = net.connect({ host: target.hostname, port: Number(target.port) });
    this.socket.setNoDelay(true);
    this.socket.setEncoding('latin1');
    this.socket.on('data', (chunk) => this.read(chunk));
    this.socket.on('error', (error) => {
      process.stderr.write(`paced load: ${error.message}\n`);
      process.exit(1);
    });
    this.ready = new Promise((resolve) => this.socket.once('connect', resolve));
  }

  send(due) {
    if (this.due !== null) this.waiting.push(due);
    else this.write(due);
  }

  write(due) {
    this.due = due;
    this.socket.write(nextRequest(), 'latin1');
  }

  read(chunk) {
    this.buffer += chunk;
    for (;;) {
      const headEnd = this.buffer.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const length = /\r\ncontent-length: *(\d+)/i.exec(this.buffer.slice(0, headEnd));
      if (!length) throw new Error('an answer without Content-Length');
      const end = headEnd + 4 + Number(length[1]);
      if (this.buffer.length < end) return;
      const status = Number(this.buffer.slice(9, 12));
      this.buffer = this.buffer.slice(end);
      const due = this.due;
      this.due = null;
      this.onAnswer(performance.now() - due, status);
      if (this.waiting.length) this.write(this.waiting.shift());
    }
  }

  get idle() {
    return this.due === null && this.waiting.length === 0;
  }
}

let record = () => {};
const pool = Array.from({ length: connections }, () => new Connection((ms, status) => record(ms, status)));
await Promise.all(pool.map((c) => c.ready));

/** Offers `rate` a second for `durationSeconds`, then waits for every answer; returns when it started (performance.now()). */
async function run(durationSeconds) {
  const interval = 1000 / rate;
  const total = Math.round(durationSeconds * rate);
  const start = performance.now() + 20;
  let k = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (k < total && start + k * interval <= now) {
        pool[k % connections].send(start + k * interval);
        k += 1;
      }
      if (k < total) setTimeout(tick, Math.max(0, start + k * interval - performance.now()));
      else resolve();
    };
    setTimeout(tick, 20);
  });
  while (!pool.every((c) => c.idle)) await new Promise((resolve) => setTimeout(resolve, 5));
  return start;
}

let sent = 0;
record = () => (sent += 1);
if (warmupSeconds) await run(warmupSeconds);
const latencies = [];
let errors = 0;
let non2xx = 0;
const trace = process.env.BENCH_PACED_TRACE ? [] : null;
record = (ms, status) => {
  sent += 1;
  latencies.push(ms);
  trace?.push([Math.round(performance.timeOrigin + performance.now() - ms), Math.round(ms * 10) / 10]);
  if (status < 200 || status > 299) non2xx += 1;
};
const measuredFrom = performance.timeOrigin + performance.now();
const start = await run(seconds);
const elapsed = (performance.now() - start) / 1000;
for (const c of pool) c.socket.destroy();
if (trace) (await import('node:fs')).writeFileSync(process.env.BENCH_PACED_TRACE, JSON.stringify(trace));
latencies.sort((a, b) => a - b);
const at = (p) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil((p / 100) * latencies.length) - 1))];
const round = (ms) => Math.round(ms * 10) / 10;
process.stdout.write(
  JSON.stringify({
    requestsPerSecond: Math.round(latencies.length / elapsed),
    p50: round(at(50)),
    p99: round(at(99)),
    max: round(latencies[latencies.length - 1]),
    errors,
    non2xx,
    sent,
    measuredFrom,
  }),
);
