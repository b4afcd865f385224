import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SegmentedMessage } from 'sms-segments-calculator';
import { countSmsSegments } from '../src/sms.js';

// Published vectors: segment sizes from Twilio's "What the heck is a segment?" and 3GPP TS 23.038.
const vectors: Array<[string, string, 'GSM-7' | 'UCS-2', number, number]> = [
  ['empty', '', 'GSM-7', 0, 0],
  ['160 GSM-7 chars fit one segment', 'a'.repeat(160), 'GSM-7', 1, 160],
  ['161 GSM-7 chars need two', 'a'.repeat(161), 'GSM-7', 2, 161],
  ['306 GSM-7 chars is exactly two', 'a'.repeat(306), 'GSM-7', 2, 306],
  ['307 GSM-7 chars need three', 'a'.repeat(307), 'GSM-7', 3, 307],
  ['extension chars cost two septets', '€'.repeat(80), 'GSM-7', 1, 160],
  ['81 euro signs overflow', '€'.repeat(81), 'GSM-7', 2, 162],
  ['70 UCS-2 chars fit one segment', 'é'.repeat(69) + 'ć', 'UCS-2', 1, 70],
  ['71 UCS-2 chars need two', 'ć'.repeat(71), 'UCS-2', 2, 71],
  ['134 UCS-2 is exactly two', 'ć'.repeat(134), 'UCS-2', 2, 134],
  ['emoji is two UTF-16 units', '😀'.repeat(35), 'UCS-2', 1, 70],
  ['greek capitals are GSM-7', 'ΔΦΓΛΩΠΨΣΘΞ', 'GSM-7', 1, 10],
];

for (const [name, text, encoding, segments, characters] of vectors) {
  test(`segments: ${name}`, () => {
    const info = countSmsSegments(text);
    assert.equal(info.encoding, encoding);
    assert.equal(info.segments, segments);
    assert.equal(info.characters, characters);
  });
}

test('an extension character is not split across a segment boundary', () => {
  // 152 septets then a two-septet char: it cannot share segment one (153), so it moves.
  const text = 'a'.repeat(152) + '€' + 'a'.repeat(10);
  const info = countSmsSegments(text);
  assert.equal(info.segments, 2);
  assert.equal(info.remainingInSegment, 153 - 12);
});

test('reports which characters force UCS-2', () => {
  const info = countSmsSegments('Hi “Sam” — see you');
  assert.equal(info.encoding, 'UCS-2');
  assert.deepEqual(info.unicodeCharacters, ['“', '”', '—']);
});

test('agrees with Twilio’s segment calculator on generated messages', () => {
  const alphabet = ['a', 'Z', '0', ' ', '€', '^', '{', '\r', '\n', 'é', 'ć', '😀', '👍🏽', 'Δ', '“', '中'];
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (let i = 0; i < 400; i += 1) {
    const length = Math.floor(random() * 420);
    const pool = random() < 0.5 ? alphabet.slice(0, 9) : alphabet;
    let text = '';
    for (let j = 0; j < length; j += 1) text += pool[Math.floor(random() * pool.length)];
    const ours = countSmsSegments(text);
    const theirs = new SegmentedMessage(text);
    assert.equal(ours.encoding, theirs.encodingName, `encoding of ${JSON.stringify(text)}`);
    assert.equal(ours.segments, text === '' ? 0 : theirs.segmentsCount, `segments of ${JSON.stringify(text)}`);
  }
});
