/**
 * perTurn (db/batch.ts): a batch is what is asked in one turn of the event
 * loop; with a concurrency, batches wait for their turn and go on taking
 * what is asked meanwhile.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { perTurn } from '../src/db/batch.js';

/** A batch function whose batches answer when told to, recording each batch and how many ran at once. */
function controlled() {
  const batches: number[][] = [];
  const pending: Array<() => void> = [];
  let running = 0;
  let mostAtOnce = 0;
  const fn = (keys: readonly number[]) => {
    batches.push([...keys]);
    running += 1;
    mostAtOnce = Math.max(mostAtOnce, running);
    return new Promise<number[]>((resolve) =>
      pending.push(() => {
        running -= 1;
        resolve(keys.map((k) => k * 10));
      }),
    );
  };
  return { fn, batches, answerNext: () => pending.shift()!(), mostAtOnce: () => mostAtOnce };
}

const turns = async (n = 5) => {
  for (let i = 0; i < n; i += 1) await new Promise((resolve) => setImmediate(resolve));
};

describe('perTurn', () => {
  test('without a concurrency, each turn’s loads are a batch of their own, run at once', async () => {
    const c = controlled();
    const loader = perTurn(c.fn);
    const first = [1, 2].map((k) => loader.load(k));
    await turns();
    const second = [3, 4, 5].map((k) => loader.load(k));
    await turns();
    assert.deepEqual(c.batches, [[1, 2], [3, 4, 5]]);
    assert.equal(c.mostAtOnce(), 2);
    c.answerNext();
    c.answerNext();
    assert.deepEqual(await Promise.all([...first, ...second]), [10, 20, 30, 40, 50]);
  });

  test('with a concurrency of 1, what is asked while a batch runs waits and goes in one next batch', async () => {
    const c = controlled();
    const loader = perTurn(c.fn, 16, 1);
    const first = [1, 2].map((k) => loader.load(k));
    await turns();
    assert.deepEqual(c.batches, [[1, 2]]);
    // Three more turns of loads while the first batch runs: none starts.
    const waiting: Array<Promise<number>> = [];
    for (const k of [3, 4, 5]) {
      waiting.push(loader.load(k));
      await turns();
    }
    assert.deepEqual(c.batches, [[1, 2]], 'nothing else runs while the first batch does');
    c.answerNext();
    assert.deepEqual(await Promise.all(first), [10, 20]);
    await turns();
    assert.deepEqual(c.batches, [[1, 2], [3, 4, 5]], 'the three went together');
    c.answerNext();
    assert.deepEqual(await Promise.all(waiting), [30, 40, 50]);
    assert.equal(c.mostAtOnce(), 1);
  });

  test('with a concurrency of 1, a full batch is followed by the next, and a failed batch frees its turn', async () => {
    let calls = 0;
    const loader = perTurn(
      async (keys: readonly number[]) => {
        calls += 1;
        if (calls === 1) throw new Error('refused');
        return keys.map((k) => k + 1);
      },
      2,
      1,
    );
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((k) => loader.load(k)));
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
      ['refused', 'refused', 4, 5, 6],
    );
    assert.equal(calls, 3, 'batches of at most 2, one after another');
  });
});
