/**
 * SMS segment counting, as carriers and Twilio bill it (3GPP TS 23.038).
 *
 * A message that fits the GSM-7 alphabet (with its extension table, whose
 * characters cost two septets) is sent as GSM-7: 160 septets in one segment,
 * 153 per segment once it must be split (the rest is the concatenation header).
 * Anything else forces UCS-2 for the whole message: 70 UTF-16 code units, or 67
 * per segment when split. A character (grapheme) is never split across segments.
 *
 * Written here rather than imported: the reference implementation
 * (`sms-segments-calculator`) is CommonJS and brings a grapheme splitter into the
 * browser bundle, while `Intl.Segmenter` is built in. The tests compare this
 * module with that library on published and generated vectors.
 */

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENSION = '\f^{}\\[~]|€';

const basic = new Set(GSM7_BASIC);
const extension = new Set(GSM7_EXTENSION);

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsSegmentInfo {
  encoding: SmsEncoding;
  /** Number of segments the message is billed as (0 for an empty message). */
  segments: number;
  /** Characters as the handset counts them: GSM-7 extension characters count 2, UCS-2 counts UTF-16 units. */
  characters: number;
  /** Characters that can be used before another segment starts. */
  remainingInSegment: number;
  /** Capacity of one segment at the current length (160/153 or 70/67). */
  perSegment: number;
  /** The distinct characters that forced UCS-2, in order of appearance. */
  unicodeCharacters: string[];
}

const segmenter: Intl.Segmenter | undefined =
  typeof Intl !== 'undefined' && 'Segmenter' in Intl ? new Intl.Segmenter() : undefined;

function graphemes(text: string): string[] {
  // Text of GSM-7 characters alone is one grapheme per character, CR LF apart
  // (one grapheme to the segmenter, which must not be split across segments):
  // most messages need no segmenter.
  const characters = Array.from(text);
  if (!segmenter || (!text.includes('\r\n') && characters.every((c) => basic.has(c) || extension.has(c)))) return characters;
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/** Septets a grapheme costs in GSM-7 (CR LF is one grapheme of two characters), or 0 when it is not all in the GSM-7 alphabet. */
function gsmCost(grapheme: string): number {
  let cost = 0;
  for (const character of grapheme) {
    if (basic.has(character)) cost += 1;
    else if (extension.has(character)) cost += 2;
    else return 0;
  }
  return cost;
}

/** Segment count, encoding and live counters for an SMS body. */
export function countSmsSegments(text: string): SmsSegmentInfo {
  const parts = graphemes(text);
  const unicodeCharacters: string[] = [];
  for (const g of parts) {
    if (gsmCost(g) === 0 && !unicodeCharacters.includes(g)) unicodeCharacters.push(g);
  }
  const encoding: SmsEncoding = unicodeCharacters.length === 0 ? 'GSM-7' : 'UCS-2';
  const single = encoding === 'GSM-7' ? 160 : 70;
  const multi = encoding === 'GSM-7' ? 153 : 67;
  const costs = parts.map((g) => (encoding === 'GSM-7' ? gsmCost(g) : g.length));
  const characters = costs.reduce((a, b) => a + b, 0);

  if (characters === 0) {
    return { encoding, segments: 0, characters, remainingInSegment: single, perSegment: single, unicodeCharacters };
  }
  if (characters <= single) {
    return {
      encoding,
      segments: 1,
      characters,
      remainingInSegment: single - characters,
      perSegment: single,
      unicodeCharacters,
    };
  }
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > multi) {
      segments += 1;
      used = 0;
    }
    used += cost;
  }
  return { encoding, segments, characters, remainingInSegment: multi - used, perSegment: multi, unicodeCharacters };
}
