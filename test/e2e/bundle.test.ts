import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { launchBrowser, startRealServer, type RunningServer } from './harness.js';

/**
 * Size budgets that are facts of the build, not of the machine's speed: the
 * CDN entry an EHR page loads is at most 20 KiB gzipped, and the Twilio SDKs
 * (twilio-video ≈ 95 KiB, @twilio/voice-sdk ≈ 46 KiB gzipped) are not loaded
 * until a call or visit starts. Markers are string literals each SDK keeps
 * through minification.
 */
const root = path.resolve(import.meta.dirname, '../..');
const ENTRY_BUDGET = 20 * 1024;
const SDK_MARKERS: Array<[string, string]> = [
  ['twilio-video', 'twilio-video.js'],
  ['@twilio/voice-sdk', 'eventgw.twilio.com'],
];

describe('bundle budgets', () => {
  let server: RunningServer;
  let browser: Browser;
  before(async () => {
    server = await startRealServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the CDN entry is at most 20 KiB gzipped: Lit, the SDK client, the bar and the list with its first page', () => {
    const entry = readFileSync(path.join(root, 'packages/elements/dist/cdn/carecomms.js'));
    const size = gzipSync(entry, { level: 9 }).length;
    console.log(`# carecomms.js: ${entry.length} bytes, ${size} bytes gzipped (budget ${ENTRY_BUDGET})`);
    assert.ok(size <= ENTRY_BUDGET, `${size} > ${ENTRY_BUDGET}`);
  });

  test('the demo page shows its history with the entry alone: no virtualizer or dialog before the first row', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const loaded: Array<{ url: string; bytes: number; body: string }> = [];
    page.on('response', async (response) => {
      if (response.request().resourceType() !== 'script' || !response.url().includes('/cdn/')) return;
      try {
        const body = await response.body();
        loaded.push({ url: new URL(response.url()).pathname, bytes: gzipSync(body, { level: 9 }).length, body: body.toString() });
      } catch {
        // a redirect or aborted response has no body
      }
    });
    // Hold back idle-time preloading, so what the first row needed is all that has been fetched.
    await page.addInitScript(() => {
      window.requestIdleCallback = () => 0;
    });
    await page.goto(server.url + '/');
    const rows = page.locator('care-comms').getByRole('list', { name: 'Correspondence' }).getByRole('listitem');
    await rows.first().waitFor();
    await page.locator('care-comms').getByText('Live', { exact: true }).waitFor();
    const total = loaded.reduce((sum, s) => sum + s.bytes, 0);
    console.log(`# JS for the bar and the first page of history, live: ${loaded.map((s) => `${s.url} ${s.bytes}`).join(', ')}; ${total} bytes gzipped`);
    assert.ok(loaded.some((s) => s.url.endsWith('/carecomms.js')));
    // What may follow the entry is the SDK's live event stream (SSE over fetch, and eventsource-parser), fetched as
    // the list subscribes, in parallel with the first page.
    const extra = loaded.filter((s) => !s.url.endsWith('/carecomms.js'));
    const isEventStream = (body: string) => body.includes('text/event-stream') || body.includes('createParser');
    assert.ok(extra.every((s) => isEventStream(s.body)), `only the event stream may follow the entry, got ${extra.map((s) => s.url).join(', ')}`);
    assert.ok(!loaded.some((s) => s.body.includes('visibilityChanged')), 'the virtualizer is not needed for a first page');
    await page.close();
  });

  test('no Twilio SDK byte is loaded before the first call, on the demo page with the dialogs opened', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const scripts: Array<{ url: string; body: Buffer }> = [];
    page.on('response', async (response) => {
      if (response.request().resourceType() !== 'script') return;
      try {
        scripts.push({ url: response.url(), body: await response.body() });
      } catch {
        // a redirect or aborted response has no body
      }
    });
    await page.goto(server.url + '/');
    await page.locator('care-comms').getByRole('list', { name: 'Correspondence' }).getByRole('listitem').first().waitFor();
    // Opening a dialog (not starting anything) must not pull an SDK in either.
    for (const label of ['Send SMS', 'Make Call', 'Video Call']) {
      const button = page.getByRole('button', { name: label, exact: true });
      if (!(await button.isVisible())) continue;
      await button.click();
      await page.getByRole('dialog').waitFor();
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'hidden' });
    }
    // Idle-time preloads (dialogs) have had their chance; the event stream keeps the network busy, so no 'networkidle'.
    await page.waitForTimeout(1500);
    const ours = scripts.filter((s) => s.url.startsWith(server.url));
    assert.ok(ours.length > 0);
    const gzipped = ours.reduce((sum, s) => sum + gzipSync(s.body, { level: 9 }).length, 0);
    console.log(`# JS loaded before any call: ${ours.length} files, ${gzipped} bytes gzipped`);
    for (const [sdk, marker] of SDK_MARKERS) {
      const carrier = ours.find((s) => s.body.includes(marker));
      assert.equal(carrier, undefined, `${sdk} was loaded by ${carrier?.url}`);
    }
    await page.close();
  });
});
