import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPhone, isMobile, toE164 } from '../src/phone.js';

test('normalises national and international numbers to E.164', () => {
  assert.equal(toE164('0491 570 006'), '+61491570006');
  assert.equal(toE164('+61 491 570 006'), '+61491570006');
  assert.equal(toE164('(202) 555-0143', 'US'), '+12025550143');
});

test('rejects what is not a phone number', () => {
  assert.equal(toE164('hello'), null);
  assert.equal(toE164('123'), null);
  assert.equal(toE164(''), null);
});

test('tells mobiles from landlines', () => {
  assert.equal(isMobile('+61491570006'), true);
  assert.equal(isMobile('+61290000000'), false);
});

test('formats for display', () => {
  assert.equal(formatPhone('+61491570006'), '+61 491 570 006');
});
