import DataLoader from 'dataloader';
import { isDatabaseUnavailable } from './database.js';

/**
 * The most items one batch statement takes for request handlers (history
 * reads, inbound webhooks). A batch runs in one database session, so on one
 * core, while its requests wait for the whole of it: a turn's items split in
 * batches of 16 are written by two or more sessions at once. Measured at 50
 * connections on 2 cores, alternating with caps of 64 and 100: about 5 % more
 * requests a second and a lower p99 for both; at 10 connections, batches
 * hold about 4 items and the cap does not apply. (That was measured before
 * inbound webhooks went one statement at a time, below; they keep the cap,
 * so a long queue of them is written 16 a statement, each answered as its
 * own statement commits.)
 */
export const REQUEST_BATCH_MAX = 16;

/**
 * The most inbound-webhook statements running at once. Each statement's
 * commit, its history-version trigger and its round trip cost PostgreSQL
 * about 0.4 ms of CPU whatever its size, against about 0.1 ms a webhook:
 * measured one after another on this machine, a statement of 1 cost 0.5 ms
 * of PostgreSQL's CPU a webhook and one of 16, 0.11 ms. With one statement
 * at a time, webhooks that arrive while it runs wait for it and go together
 * in the next, so batches grow with the load instead of statements
 * multiplying; at 1,166 webhooks/s on 2 cores, PostgreSQL spent about a
 * third less CPU a webhook than with a statement per turn of the event loop,
 * several at once contending for the same index pages and WAL flush. The
 * price is a ceiling of 16 webhooks per statement's time: about 2.5 ms
 * here, some 6,000 webhooks/s; with a database 20 ms away, about 800/s,
 * far above what a clinic's Twilio number receives.
 */
export const INBOUND_BATCH_CONCURRENCY = 1;

/**
 * A DataLoader whose batch is everything asked of it in one turn of the
 * event loop (at most `maxBatchSize`), not cached: for statements that
 * answer a whole batch at once. With `concurrency`, at most that many
 * batches run at once: a batch that must wait for its turn goes on taking
 * what is asked meanwhile (up to `maxBatchSize`), and runs as soon as one
 * running finishes.
 */
export function perTurn<K, V>(batch: DataLoader.BatchLoadFn<K, V>, maxBatchSize = Infinity, concurrency = Infinity): DataLoader<K, V> {
  if (concurrency === Infinity) return new DataLoader(batch, { cache: false, maxBatchSize, batchScheduleFn: (run) => setImmediate(run) });
  let running = 0;
  const waiting: Array<() => void> = [];
  const finished = () => {
    const next = waiting.shift();
    if (next) setImmediate(next);
    else running -= 1;
  };
  const limited: DataLoader.BatchLoadFn<K, V> = (keys) => {
    let result: ReturnType<DataLoader.BatchLoadFn<K, V>>;
    try {
      result = batch(keys);
    } catch (error) {
      finished();
      throw error;
    }
    result.then(finished, finished);
    return result;
  };
  return new DataLoader(limited, {
    cache: false,
    maxBatchSize,
    batchScheduleFn: (run) => {
      if (running < concurrency) {
        running += 1;
        setImmediate(run);
      } else waiting.push(run);
    },
  });
}

/**
 * Runs `statement` for all the items at once. When the database refuses that
 * for a reason other than being unreachable (one item it cannot take, say),
 * runs it for each item alone, so that one item fails alone: each gets its
 * answer or its own error.
 */
export async function togetherOrEachAlone<K, V>(items: readonly K[], statement: (items: readonly K[]) => Promise<V[]>): Promise<Array<V | Error>> {
  try {
    return await statement(items);
  } catch (error) {
    if (items.length === 1 || isDatabaseUnavailable(error)) throw error;
    return Promise.all(items.map((item) => statement([item]).then(([answer]) => answer!, (e: unknown) => (e instanceof Error ? e : new Error(String(e))))));
  }
}
