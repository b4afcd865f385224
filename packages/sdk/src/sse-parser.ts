/** One event of a `text/event-stream`: `id` and `event` as set within its block (undefined when not). */
export interface EventStreamMessage {
  id?: string | undefined;
  event?: string | undefined;
  data: string;
}

export interface EventStreamCallbacks {
  onEvent?: ((message: EventStreamMessage) => void) | undefined;
  /** A valid `retry:` field: the reconnection time the server asks for, in milliseconds. */
  onRetry?: ((ms: number) => void) | undefined;
}

/**
 * Parses a `text/event-stream` fed in chunks of text of any size, by the
 * rules of WHATWG HTML "Parsing an event stream": lines end in CR, LF or
 * CRLF (also across chunks); one leading U+FEFF is dropped; comments and
 * unknown fields are ignored; `data` lines join with LF; `id` holding NUL is
 * ignored; `retry` counts only if all ASCII digits; an event is dispatched at
 * a blank line if its block had data, and an unfinished block is not.
 *
 * Events carry what eventsource-parser's do, and test/sse-parser.test.ts holds
 * it to that parser on the same inputs: this one is a fraction of its size,
 * which counts on the widget's path to its first live row.
 *
 * Feed it text decoded with `ignoreBOM: true` so the BOM is dropped here, once.
 */
export function createParser({ onEvent, onRetry }: EventStreamCallbacks): { feed(chunk: string): void } {
  let started = false;
  // The line so far that no line end has closed yet.
  let pending = '';
  // The text so far ended in CR: an LF next completes that CRLF and ends no line of its own.
  let afterCR = false;
  let data: string | undefined;
  let event: string | undefined;
  let id: string | undefined;

  const parseLine = (line: string) => {
    if (!line) {
      if (data !== undefined) onEvent?.({ id, event, data });
      data = event = id = undefined;
      return;
    }
    const colon = line.indexOf(':');
    // A line starting with a colon is a comment.
    if (!colon) return;
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(line[colon + 1] === ' ' ? colon + 2 : colon + 1);
    if (field === 'data') data = data === undefined ? value : data + '\n' + value;
    else if (field === 'event') event = value || undefined;
    else if (field === 'id') id = value.includes('\0') ? id : value;
    else if (field === 'retry' && /^\d+$/.test(value)) onRetry?.(parseInt(value, 10));
  };

  return {
    feed(chunk) {
      if (!chunk) return;
      if (!started) {
        started = true;
        if (chunk[0] === '\uFEFF') chunk = chunk.slice(1);
      }
      if (afterCR && chunk[0] === '\n') chunk = chunk.slice(1);
      afterCR = chunk.endsWith('\r');
      const lines = chunk.split(/\r\n?|\n/);
      lines[0] = pending + lines[0];
      pending = lines.pop()!;
      lines.forEach(parseLine);
    },
  };
}
