/**
 * The page bench/browser.ts loads in Chromium: `<care-correspondence-list>` and,
 * as the baseline, the same element rendering every row through a plain Lit
 * `repeat` (no plain-row cap, no virtualizer). Both get their entries from an
 * in-page client, so only rendering is measured.
 */
import { html } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import '@lit-labs/virtualizer/virtualize.js';
import { CHANNELS, type CorrespondenceEntry } from '@carecomms/core';
import { CareCorrespondenceList } from '../packages/elements/src/correspondence-list/correspondence-list.js';
import { define } from '../packages/elements/src/lazy.js';

class PlainRepeatList extends CareCorrespondenceList {
  protected override renderList(visible: boolean) {
    const { entries } = this as unknown as { entries: CorrespondenceEntry[] };
    return html`<div class="list" part="list" ?hidden=${!visible}>
      <div role="list">${repeat(entries, (entry) => entry.id, (entry, index) => this.renderEntry(entry, index))}</div>
    </div>`;
  }
}
define('care-correspondence-list', CareCorrespondenceList);
define('plain-repeat-list', PlainRepeatList);

const BODIES = [
  'Reminder: your appointment with Dr Lee is tomorrow at 10:30. Reply C to confirm.',
  'Thanks, see you then',
  'Your test results are ready. Please call the clinic to discuss them.',
  'Running 10 minutes late, sorry!',
];

function makeEntries(count: number): CorrespondenceEntry[] {
  const start = Date.parse('2026-11-01T09:00:00Z');
  return Array.from({ length: count }, (_, i) => {
    const channel = CHANNELS[i % CHANNELS.length]!;
    const talk = channel === 'voice' || channel === 'video';
    const at = new Date(start - i * 60_000).toISOString();
    return {
      id: `entry-${String(count - i).padStart(6, '0')}`,
      patientId: `pat-${i % 40}`,
      patientName: `Patient ${i % 40}`,
      practitionerId: 'prac-1',
      channel,
      direction: i % 3 === 0 ? 'inbound' : 'outbound',
      status: talk ? 'completed' : i % 3 === 0 ? 'received' : 'delivered',
      body: talk ? null : BODIES[i % BODIES.length]!,
      durationSeconds: talk ? 60 + (i % 600) : null,
      hasRecording: false,
      notes: null,
      errorCode: null,
      session: null,
      createdAt: at,
      updatedAt: at,
    } as unknown as CorrespondenceEntry;
  });
}

const nextFrame = () => new Promise<number>((resolve) => requestAnimationFrame(resolve));

declare global {
  interface Window {
    renderList(tag: string, count: number): Promise<{ layoutMs: number; paintMs: number; rowsInDom: number }>;
    scrollList(seconds: number, pxPerFrame: number): Promise<{ frames: number; seconds: number; p95FrameMs: number; maxFrameMs: number }>;
  }
}

/** Renders `count` entries; times from inserting the element to rows laid out, and to the next paint. */
window.renderList = async (tag, count) => {
  const items = makeEntries(count);
  const client = {
    baseUrl: location.origin,
    correspondence: { list: () => Promise.resolve({ items, nextCursor: null }) },
    events: { subscribe: () => () => {} },
  };
  const host = document.getElementById('host')!;
  host.replaceChildren();
  await nextFrame();
  const el = document.createElement(tag) as CareCorrespondenceList;
  el.client = client as unknown as CareCorrespondenceList['client'];
  const t0 = performance.now();
  host.append(el);
  while (!el.shadowRoot?.querySelector('[role="listitem"]')) await el.updateComplete;
  el.getBoundingClientRect();
  const layoutMs = performance.now() - t0;
  await nextFrame();
  const paintMs = performance.now() - t0;
  return { layoutMs, paintMs, rowsInDom: el.shadowRoot!.querySelectorAll('[role="listitem"]').length };
};

/** Scrolls the page through the list for `seconds`, `pxPerFrame` a frame, and reports the frame times. */
window.scrollList = async (seconds, pxPerFrame) => {
  window.scrollTo(0, 0);
  await nextFrame();
  const deltas: number[] = [];
  let last = await nextFrame();
  const end = last + seconds * 1000;
  while (last < end) {
    window.scrollBy(0, pxPerFrame);
    const now = await nextFrame();
    deltas.push(now - last);
    last = now;
  }
  const sorted = [...deltas].sort((a, b) => a - b);
  return {
    frames: deltas.length,
    seconds,
    p95FrameMs: sorted[Math.floor(sorted.length * 0.95)]!,
    maxFrameMs: sorted.at(-1)!,
  };
};
