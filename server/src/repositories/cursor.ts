import { unprocessable } from '../errors.js';

/**
 * Opaque keyset cursors: the sort key of the last row of a page, base64url
 * JSON. A cursor that does not decode to the expected shape is a 422.
 */
export function encodeCursor(values: Array<string>): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string, check: (values: string[]) => boolean): string[] {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(values) && values.every((v) => typeof v === 'string') && check(values)) return values;
  } catch {
    // fall through to the 422 below
  }
  throw unprocessable('invalid_cursor', 'The cursor is not valid for this list');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);
