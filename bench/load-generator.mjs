/**
 * The load generator behind bench/lib.ts `load()`: a process of its own that
 * runs autocannon's warm-up and then its measured run, so the measured run
 * starts with autocannon's code compiled and the request modules loaded.
 * Settings come as JSON in BENCH_LOAD; a request's `setupRequest` is the path
 * of a CommonJS module exporting autocannon's per-request function, loaded
 * once here. Prints the measured run's figures as JSON on stdout.
 */
import { createRequire } from 'node:module';
import autocannon from 'autocannon';

const require = createRequire(import.meta.url);
const { warmupSeconds, ...options } = JSON.parse(process.env.BENCH_LOAD);
if (options.requests) options.requests = options.requests.map((r) => (r.setupRequest ? { ...r, setupRequest: require(r.setupRequest) } : r));

const warmup = warmupSeconds ? await autocannon({ ...options, duration: warmupSeconds }) : null;
const measuredFrom = performance.timeOrigin + performance.now();
const result = await autocannon(options);
process.stdout.write(
  JSON.stringify({
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    sent: (warmup?.requests.sent ?? 0) + result.requests.sent,
    measuredFrom,
  }),
);
