import DataLoader from 'dataloader';
import { isDatabaseUnavailable } from './database.js';

/**
 * The most items one batch statement takes for request handlers (history
 * reads, inbound webhooks). A batch runs in one database session, so on one
 * core, while its requests wait for the whole of it: a turn's items split in
 * batches of 16 are written by two or more sessions at once. Measured at 50
 * connections on 2 cores, alternating with caps of 64 and 100: about 5 % more
 * requests a second and a lower p99 for both; at 10 connections, batches
 * hold about 4 items and the cap does not apply.
 */
export const REQUEST_BATCH_MAX = 16;

/**
 * A DataLoader whose batch is everything asked of it in one turn of the
 * event loop (at most `maxBatchSize`), not cached: for statements that
 * answer a whole batch at once.
 */
export function perTurn<K, V>(batch: DataLoader.BatchLoadFn<K, V>, maxBatchSize = Infinity): DataLoader<K, V> {
  return new DataLoader(batch, { cache: false, maxBatchSize, batchScheduleFn: (run) => setImmediate(run) });
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
