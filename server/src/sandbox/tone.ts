/** Sample rate of the sandbox's stand-in recordings (telephone quality). */
const SAMPLE_RATE = 8000;
const HEADER_BYTES = 44;
/** Recordings longer than this are cut short: the sandbox's audio is a placeholder. */
export const MAX_TONE_SECONDS = 600;

/**
 * The sandbox's stand-in for a call recording: a WAV (8 kHz, 8-bit mono) as
 * long as the call, with a soft two-note chime every two seconds so a player
 * visibly and audibly plays something. Deterministic: the same duration gives
 * the same bytes, so range requests for parts of it agree.
 */
export function toneWav(durationSeconds: number): Buffer {
  const seconds = Math.min(MAX_TONE_SECONDS, Math.max(1, Math.round(durationSeconds)));
  const samples = seconds * SAMPLE_RATE;
  const wav = Buffer.alloc(HEADER_BYTES + samples);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + samples, 4);
  wav.write('WAVE', 8, 'ascii');
  wav.write('fmt ', 12, 'ascii');
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(SAMPLE_RATE, 24);
  wav.writeUInt32LE(SAMPLE_RATE, 28); // byte rate: 1 byte per sample
  wav.writeUInt16LE(1, 32); // block align
  wav.writeUInt16LE(8, 34); // bits per sample
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(samples, 40);
  for (let i = 0; i < samples; i++) {
    const t = (i % (2 * SAMPLE_RATE)) / SAMPLE_RATE;
    // 0–0.25 s: 660 Hz, 0.3–0.55 s: 440 Hz, each faded in and out; silence for the rest.
    const note = t < 0.25 ? { f: 660, t } : t >= 0.3 && t < 0.55 ? { f: 440, t: t - 0.3 } : null;
    const envelope = note ? Math.sin((Math.PI * note.t) / 0.25) * 0.35 : 0;
    const value = note ? envelope * Math.sin(2 * Math.PI * note.f * (i / SAMPLE_RATE)) : 0;
    wav[HEADER_BYTES + i] = Math.round(128 + 127 * value);
  }
  return wav;
}

/** The byte range a `Range: bytes=…` header asks of a body of `size` bytes: null for the whole body, 'unsatisfiable' when out of bounds. */
export function parseRange(header: string | null, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges, or another unit: answer with the whole body, as RFC 9110 allows.
  if (!match || (match[1] === '' && match[2] === '')) return null;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}
