/**
 * NOTIFY after commit (db/notify.ts): one NOTIFY carries everything queued
 * meanwhile, and NOTIFYs go out at most one every NOTIFY_INTERVAL_MS, the
 * first after a quiet spell at once.
 */
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { Notifier, NOTIFY_INTERVAL_MS } from '../src/db/notify.js';
import type { Knex } from '../src/db/knex.js';

/** A stand-in for the pool that records each statement's bindings and answers when told to. */
function fakeDatabase() {
  const sent: Array<{ bindings: string[]; answer: () => void }> = [];
  const knex = {
    raw: (_sql: string, bindings: string[]) => new Promise<void>((resolve) => sent.push({ bindings, answer: resolve })),
  } as unknown as Knex;
  return { knex, sent };
}

/** Lets the event loop run its pending setImmediate callbacks and promise reactions. */
const turns = async (n = 5) => {
  for (let i = 0; i < n; i += 1) await new Promise((resolve) => setImmediate(resolve));
};

describe('Notifier', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  test('the first NOTIFY goes at once; what is queued while it is sent goes in one NOTIFY, once the interval is over', async () => {
    const { knex, sent } = fakeDatabase();
    const notifier = new Notifier(knex, (error) => assert.fail(error));
    notifier.after(knex, 'events', '1');
    await turns();
    assert.equal(sent.length, 1, 'sent at the end of the turn, no timer');
    assert.deepEqual(sent[0]!.bindings, ['events', '1']);

    notifier.after(knex, 'events', '2');
    notifier.after(knex, 'events', '3');
    sent[0]!.answer();
    await turns();
    notifier.after(knex, 'events', '4');
    await turns();
    assert.equal(sent.length, 1, 'nothing more within the interval');

    mock.timers.tick(NOTIFY_INTERVAL_MS - 1);
    await turns();
    assert.equal(sent.length, 1, 'not before the interval is over');
    mock.timers.tick(1);
    await turns();
    assert.equal(sent.length, 2);
    assert.deepEqual(sent[1]!.bindings, ['events', '2,3,4'], 'one NOTIFY for the three');
    sent[1]!.answer();
    await notifier.drain();
  });

  test('after a quiet spell, a NOTIFY goes at once again', async () => {
    const { knex, sent } = fakeDatabase();
    const notifier = new Notifier(knex, (error) => assert.fail(error));
    notifier.after(knex, 'events', '1');
    await turns();
    sent[0]!.answer();
    await notifier.drain();
    mock.timers.tick(NOTIFY_INTERVAL_MS);
    notifier.after(knex, 'events', '2');
    await turns();
    assert.equal(sent.length, 2);
    assert.deepEqual(sent[1]!.bindings, ['events', '2']);
    sent[1]!.answer();
    await notifier.drain();
  });
});
