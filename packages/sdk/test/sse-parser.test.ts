import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createParser as referenceParser } from 'eventsource-parser';
import { createParser } from '../src/sse-parser.ts';

/**
 * The SDK's event-stream parser against eventsource-parser (the reference,
 * a devDependency for this test only) on the same inputs, fed whole, one
 * character at a time and split at every position; and against the examples
 * of WHATWG HTML "Parsing an event stream" directly.
 */
type Output = Array<['event', { id: string | undefined; event: string | undefined; data: string }] | ['retry', number]>;

function parseWith(create: typeof createParser, chunks: string[]): Output {
  const output: Output = [];
  const parser = create({
    onEvent: ({ id, event, data }) => output.push(['event', { id, event, data }]),
    onRetry: (ms) => output.push(['retry', ms]),
  });
  for (const chunk of chunks) parser.feed(chunk);
  return output;
}

const ours = (chunks: string[]) => parseWith(createParser, chunks);
const reference = (chunks: string[]) => parseWith(referenceParser, chunks);

/** The input whole, a character at a time, and cut in two at every position. */
function chunkings(input: string): string[][] {
  const ways = [[input], [...input]];
  for (let i = 1; i < input.length; i += 1) ways.push([input.slice(0, i), input.slice(i)]);
  return ways;
}

const INPUTS: Record<string, string> = {
  'one event': 'data: hello\n\n',
  'event type and id': 'event: correspondence.created\nid: 42\ndata: {"id":"e1"}\n\n',
  'several data lines join with LF': 'data: a\ndata: b\ndata:\ndata: c\n\n',
  'no space, one space, two spaces after the colon': 'data:a\n\ndata: b\n\ndata:  c\n\n',
  'a field name with no colon': 'data\n\ndata\ndata\n\n',
  'CRLF line ends': 'event: x\r\nid: 7\r\ndata: one\r\ndata: two\r\n\r\n',
  'CR line ends': 'event: x\rid: 7\rdata: one\r\rdata: two\r\r',
  'mixed line ends': 'data: a\r\ndata: b\rdata: c\n\r\ndata: d\n\r',
  'comments and heartbeats': ': ping\n\n:\n: hello: there\ndata: x\n: between\n\n',
  'unknown fields and wrong case are ignored': 'Data: no\nfoo: bar\nevent : no\ndata: yes\n\n',
  'id with NUL is ignored': 'id: 1\ndata: a\n\nid: 2\u00003\ndata: b\n\nid: 4\nid: 5\u0000\ndata: c\n\n',
  'empty id': 'id\ndata: a\n\nid:\ndata: b\n\n',
  'retry: digits only': 'retry: 1500\nretry: 12a\nretry: -1\nretry:  10\nretry\nretry: 3.5\nretry: 0\nretry: 007\n\n',
  'retry alone, then an event': 'retry: 2000\n\ndata: after\n\n',
  'a block without data dispatches nothing and resets event and id': 'event: lonely\nid: 9\n\ndata: plain\n\n',
  'an empty event name': 'event:\ndata: x\n\n',
  'an empty data line is an event': 'data:\n\n',
  'colons in the value': 'data: a:b: c\nid: x:y\n\n',
  'an unfinished event is not dispatched': 'data: done\n\ndata: not yet',
  'an unfinished line is held': 'data: done\n\nda',
  'blank lines between events': '\n\n\ndata: a\n\n\n\ndata: b\n\n',
  'a BOM after the start is part of the field name': 'data: a\n\n\uFEFFdata: b\n\ndata: c\n\n',
  'non-ASCII text': 'event: ñandú\ndata: Grüße, 你好 👋\n\n',
  'a long line': `data: ${'x'.repeat(5000)}\n\n`,
};

describe('SSE parser', () => {
  for (const [name, input] of Object.entries(INPUTS)) {
    it(`matches eventsource-parser: ${name}`, () => {
      // eventsource-parser waits for the character after a chunk's last CR before it ends that line (it may be a CRLF);
      // ours ends the line at once and drops an LF that follows. A final LF settles both.
      const expected = reference([input, '\n']);
      for (const chunks of chunkings(input)) assert.deepEqual(ours([...chunks, '\n']), expected, JSON.stringify(chunks));
    });
  }

  it('ends a line at a CR without waiting for the next chunk, and skips an LF that follows in the next', () => {
    const output: Output = [];
    const parser = createParser({ onEvent: ({ id, event, data }) => output.push(['event', { id, event, data }]) });
    parser.feed('data: one\r\r');
    assert.deepEqual(output, [['event', { id: undefined, event: undefined, data: 'one' }]]);
    parser.feed('\ndata: two\r');
    parser.feed('\n');
    assert.equal(output.length, 1, 'the LF completed a CRLF; no blank line yet');
    parser.feed('\n');
    assert.deepEqual(output[1], ['event', { id: undefined, event: undefined, data: 'two' }]);
  });

  it('drops one leading BOM, wherever the first chunk ends', () => {
    // eventsource-parser looks for the BOM's UTF-8 bytes read as Latin-1; ours for U+FEFF, as TextDecoderStream with
    // ignoreBOM gives it. Both drop it at the start of the stream only.
    const expected = reference(['\u00EF\u00BB\u00BFdata: a\n\n\uFEFFdata: b\n\ndata: c\n\n']);
    assert.deepEqual(expected, [
      ['event', { id: undefined, event: undefined, data: 'a' }],
      ['event', { id: undefined, event: undefined, data: 'c' }],
    ]);
    for (const chunks of chunkings('\uFEFFdata: a\n\n\uFEFFdata: b\n\ndata: c\n\n')) assert.deepEqual(ours(chunks), expected);
    assert.deepEqual(ours(['', '\uFEFF', 'data: a\n\n']), [['event', { id: undefined, event: undefined, data: 'a' }]]);
  });

  // The examples in the HTML standard's section on event streams.
  const SPEC: Array<[string, Output]> = [
    [
      'data: YHOO\ndata: +2\ndata: 10\n\n',
      [['event', { id: undefined, event: undefined, data: 'YHOO\n+2\n10' }]],
    ],
    [
      ': test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n',
      [
        ['event', { id: '1', event: undefined, data: 'first event' }],
        ['event', { id: '', event: undefined, data: 'second event' }],
        ['event', { id: undefined, event: undefined, data: ' third event' }],
      ],
    ],
    [
      'data\n\ndata\ndata\n\ndata:',
      [
        ['event', { id: undefined, event: undefined, data: '' }],
        ['event', { id: undefined, event: undefined, data: '\n' }],
      ],
    ],
    [
      'data:test\n\ndata: test\n\n',
      [
        ['event', { id: undefined, event: undefined, data: 'test' }],
        ['event', { id: undefined, event: undefined, data: 'test' }],
      ],
    ],
  ];
  for (const [input, expected] of SPEC) {
    it(`follows the HTML standard's example ${JSON.stringify(input.slice(0, 24))}…`, () => {
      for (const chunks of chunkings(input)) assert.deepEqual(ours(chunks), expected, JSON.stringify(chunks));
      assert.deepEqual(reference([input]), expected);
    });
  }
});
