import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { api, FAST_OUTBOX_ENV, startServer, waitUntil, type TestServer } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('patient phone simulator: serving', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer('pglite', { env: FAST_OUTBOX_ENV });
  });
  after(() => server.close());

  test('the page and its assets are served with the strict CSP and no inline script', async () => {
    const page = await fetch(`${server.url}/sandbox/phone?phone=%2B61491570006`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /text\/html/);
    const csp = page.headers.get('content-security-policy')!;
    assert.match(csp, /script-src 'self'(;|$)/);
    const html = await page.text();
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) assert.match(tag, /\bsrc="\/sandbox\/assets\//);
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handlers');
    for (const asset of ['phone.js', 'messages-view.js', 'call-view.js', 'sandbox-api.js', 'phone.css']) {
      const res = await fetch(`${server.url}/sandbox/assets/${asset}`);
      assert.equal(res.status, 200, asset);
    }
    for (const asset of ['messages-view.js', 'call-view.js']) {
      const js = await (await fetch(`${server.url}/sandbox/assets/${asset}`)).text();
      assert.doesNotMatch(js, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/, `${asset}: text is never parsed as HTML`);
    }
  });

  test("the demo's texts are in each phone's inbox, as in the chart's history", async () => {
    const lee = await server.token('dr-lee');
    const patients = (await api(server, '/api/v1/patients', { token: lee })).body.items as Array<{ id: string; name: string; phone: string | null }>;
    const margaret = patients.find((p) => p.name === 'Margaret Thompson')!;
    const history = (await api(server, `/api/v1/correspondence?patientId=${margaret.id}&channel=sms`, { token: lee })).body.items as Array<{ body: string; direction: string }>;
    assert.equal(history.length, 2);
    const inbox = (await (await fetch(`${server.url}/sandbox/api/messages?phone=${encodeURIComponent(margaret.phone!)}`)).json()) as {
      items: Array<{ from: string; to: string; body: string; status: string; clinicName: string; createdAt: string }>;
    };
    // The phone lists oldest first; the history newest first.
    const clinic = '+61491571266';
    assert.deepEqual(
      inbox.items.map((m) => [m.from, m.to, m.body, m.status]),
      history
        .reverse()
        .map((e) => (e.direction === 'outbound' ? [clinic, margaret.phone, e.body, 'delivered'] : [margaret.phone, clinic, e.body, 'received'])),
    );
    assert.ok(inbox.items.every((m) => m.clinicName === 'Demo Clinic'));
    assert.ok(Date.parse(inbox.items[0]!.createdAt) < Date.now() - 24 * 3600_000, 'dated as in the history, days ago');
    // Each phone holds its own conversation only.
    const other = (await (await fetch(`${server.url}/sandbox/api/messages?phone=%2B61491570313`)).json()) as { items: Array<{ clinicName: string }> };
    assert.deepEqual(other.items.map((m) => m.clinicName), ['Other Clinic', 'Other Clinic']);
  });
});

describe('patient phone simulator: in a browser', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, () => {
  let server: TestServer;
  let browser: import('playwright-core').Browser;
  before(async () => {
    server = await startServer('pglite', { env: FAST_OUTBOX_ENV });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
    await server.close();
  });

  test('texts arrive live, as text; a reply and STOP reach the clinic', async () => {
    const lee = await server.token('dr-lee');
    const patients = (await api(server, '/api/v1/patients', { token: lee })).body.items as Array<{ id: string; name: string; phone: string }>;
    const james = patients.find((p) => p.name === "James O'Connor")!;
    const page = await browser.newPage({ viewport: { width: 375, height: 740 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.url}/sandbox/phone?phone=${encodeURIComponent(james.phone)}`);
    await page.waitForSelector('#connection[data-live="true"]');
    // The demo's earlier conversation is there before anything new arrives.
    await page.locator('.bubble.in', { hasText: 'A reminder of your appointment tomorrow' }).waitFor();
    await page.locator('.bubble.out', { hasText: 'Thanks, see you then!' }).waitFor();

    await api(server, `/api/v1/patients/${james.id}/messages`, { token: lee, body: { body: 'Hello <img src=x onerror=alert(1)> https://example.com/visit' } });
    const bubble = page.locator('.bubble.in').last();
    await bubble.waitFor();
    assert.equal(await bubble.textContent(), 'Hello <img src=x onerror=alert(1)> https://example.com/visit');
    assert.equal(await page.locator('.bubble img').count(), 0);
    assert.equal(await bubble.locator('a').getAttribute('href'), 'https://example.com/visit');
    // A link at the end of a sentence, or in brackets, leaves the punctuation out, as phones link it.
    await api(server, `/api/v1/patients/${james.id}/messages`, { token: lee, body: { body: 'Join here: https://example.com/join/abc. (Help: https://example.com/help), thanks' } });
    const sentence = page.locator('.bubble.in', { hasText: 'Join here' });
    await sentence.waitFor();
    assert.deepEqual(await sentence.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href'))), ['https://example.com/join/abc', 'https://example.com/help']);
    assert.equal(await sentence.textContent(), 'Join here: https://example.com/join/abc. (Help: https://example.com/help), thanks');
    assert.equal(await page.locator('#clinic-name').textContent(), 'Demo Clinic');
    await page.locator('.meta.in').last().waitFor();
    // Fits a 375px screen without sideways scrolling.
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 375));

    await page.fill('#reply', 'Got it, thanks');
    await page.keyboard.press('Enter');
    await page.locator('.bubble.out', { hasText: 'Got it, thanks' }).waitFor();
    const latest = await waitUntil(async () => {
      const items = (await api(server, `/api/v1/correspondence?patientId=${james.id}&limit=1`, { token: lee })).body.items;
      return items[0]?.direction === 'inbound' && items[0];
    }, 5000, 'the reply in the history');
    assert.equal(latest.body, 'Got it, thanks');

    await page.click('[data-reply="STOP"]');
    await waitUntil(async () => (await api(server, `/api/v1/patients/${james.id}`, { token: lee })).body.optedOut, 5000, 'opt-out');
    // Twilio's own confirmation arrives live, from the clinic's number; START gets its own.
    await page.locator('.bubble.in', { hasText: 'You have successfully been unsubscribed. You will not receive any more messages from this number.' }).waitFor({ timeout: 5000 });
    await page.click('[data-reply="START"]');
    await page.locator('.bubble.in', { hasText: 'You have successfully been re-subscribed to messages from this number.' }).waitFor({ timeout: 5000 });
    await waitUntil(async () => !(await api(server, `/api/v1/patients/${james.id}`, { token: lee })).body.optedOut, 5000, 'opt-in');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the STOP / START / HELP chips and Send are 44px touch targets, the chips in one tidy row from 320 to 390px wide', async () => {
    for (const width of [320, 360, 390]) {
      const page = await browser.newPage({ viewport: { width, height: 640 } });
      await page.goto(`${server.url}/sandbox/phone?phone=%2B61491570006`);
      await page.waitForSelector('#connection[data-live="true"]');
      const chips = await page.$$eval('.quick-replies [data-reply]', (buttons) =>
        buttons.map((button) => {
          const box = button.getBoundingClientRect();
          // Where a tap lands on the chip: its middle, edges and corners, 1px in.
          const points = [
            [box.left + box.width / 2, box.top + box.height / 2],
            [box.left + box.width / 2, box.top + 1],
            [box.left + box.width / 2, box.bottom - 1],
            [box.left + 1, box.top + box.height / 2],
            [box.right - 1, box.top + box.height / 2],
            [box.left + 1, box.top + 1],
            [box.right - 1, box.bottom - 1],
          ];
          const hits = points.map(([x, y]) => (document.elementFromPoint(x!, y!)?.closest('[data-reply]') as HTMLElement | null)?.dataset.reply ?? null);
          return { reply: (button as HTMLElement).dataset.reply!, top: box.top, bottom: box.bottom, left: box.left, right: box.right, width: box.width, height: box.height, hits };
        }),
      );
      assert.deepEqual(chips.map((c) => c.reply), ['STOP', 'START', 'HELP']);
      for (const chip of chips) {
        assert.ok(chip.height >= 44 && chip.width >= 44, `${width}px: ${chip.reply} is ${chip.width}×${chip.height}`);
        assert.deepEqual(chip.hits, Array(chip.hits.length).fill(chip.reply), `${width}px: all of ${chip.reply} answers a tap`);
      }
      // One row, apart, on screen; the row stays compact, with the composer below it.
      for (const [a, b] of chips.slice(0, -1).map((chip, i) => [chip, chips[i + 1]!] as const)) {
        assert.equal(a.top, b.top, `${width}px: one row`);
        assert.ok(b.left - a.right >= 4, `${width}px: ${a.reply} and ${b.reply} are apart`);
      }
      assert.ok(chips[0]!.left >= 8 && chips.at(-1)!.right <= width - 8, `${width}px: inside the screen`);
      assert.ok(chips[0]!.height <= 48, `${width}px: the row stays compact`);
      const composer = (await page.locator('#composer').boundingBox())!;
      assert.ok(composer.y >= chips[0]!.bottom && composer.y + composer.height <= 640, `${width}px: the composer sits below, on screen`);
      const send = (await page.locator('#send').boundingBox())!;
      assert.ok(send.width >= 44 && send.height >= 44, `${width}px: Send is ${send.width}×${send.height}`);
      assert.ok(send.x + send.width <= width - 8, `${width}px: Send is on screen`);
      assert.ok(await page.evaluate((w) => document.documentElement.scrollWidth <= w, width), `${width}px: no sideways scrolling`);
      await page.close();
    }
  });
});
