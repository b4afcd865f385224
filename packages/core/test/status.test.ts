import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canTransition, isTerminalStatus, STATUSES } from '../src/enums.js';

test('statuses move forward only', () => {
  assert.equal(canTransition('queued', 'sent'), true);
  assert.equal(canTransition('sent', 'delivered'), true);
  assert.equal(canTransition('queued', 'delivered'), true);
  assert.equal(canTransition('sent', 'queued'), false);
  assert.equal(canTransition('ringing', 'in-progress'), true);
  assert.equal(canTransition('in-progress', 'ringing'), false);
});

test('terminal statuses never change', () => {
  for (const terminal of ['delivered', 'undelivered', 'failed', 'completed', 'busy', 'no-answer'] as const) {
    assert.equal(isTerminalStatus(terminal), true);
    for (const to of STATUSES) assert.equal(canTransition(terminal, to), false, `${terminal} → ${to}`);
  }
});

test('a duplicate status is not a transition', () => {
  for (const s of STATUSES) assert.equal(canTransition(s, s), false);
});
