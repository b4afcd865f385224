import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, startRealServer, type RunningServer } from './harness.js';

/**
 * The demo as a new user meets it: the real server binary in demo mode on
 * embedded PGlite, the demo EHR page in Chromium, the widget inside it.
 */
describe('demo EHR page', () => {
  let server: RunningServer;
  let browser: Browser;
  let apiKey: string;
  before(async () => {
    server = await startRealServer();
    browser = await launchBrowser();
    apiKey = JSON.parse(readFileSync(path.join(server.dataDir, 'demo-api-keys.json'), 'utf8')).demoClinicApiKey;
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function open(width: number, height = 900): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width, height } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(server.url + '/');
    await page.getByRole('list', { name: 'Correspondence' }).getByRole('listitem').first().waitFor();
    return { page, errors };
  }

  const logEntry = (patient: string, body: string) =>
    fetch(`${server.url}/api/v1/admin/correspondence`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ patient, channel: 'sms', direction: 'inbound', body }),
    }).then((res) => res.json() as Promise<{ id: string }>);

  test('shows the action bar for the server’s features and the patient’s history, with no errors', async () => {
    const { page, errors } = await open(1280);
    const token = await page.evaluate(() => document.querySelector('care-comms')!.getAttribute('token'));
    const session = await (await fetch(`${server.url}/api/v1/session`, { headers: { authorization: `Bearer ${token}` } })).json();
    const labels: Record<string, string> = { sms: 'Send SMS', voice: 'Make Call', video: 'Video Call' };
    for (const [feature, label] of Object.entries(labels)) {
      const button = page.getByRole('button', { name: label, exact: true });
      assert.equal(await button.isVisible(), session.features.includes(feature), `${label} shown iff the server offers ${feature}`);
    }
    assert.ok(session.features.length > 0, 'the demo server offers at least SMS');
    const items = page.getByRole('list', { name: 'Correspondence' }).getByRole('listitem');
    assert.ok((await items.count()) >= 3);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('filters the history by channel', async () => {
    const { page } = await open(1280);
    const items = page.getByRole('list', { name: 'Correspondence' }).getByRole('listitem');
    const all = await items.count();
    await page.getByRole('radio', { name: 'SMS' }).check();
    await page.waitForFunction(
      (count) => {
        const list = document.querySelector('care-comms')?.shadowRoot?.querySelector('care-correspondence-list');
        const rows = list?.shadowRoot?.querySelectorAll('[role=listitem]') ?? [];
        return rows.length > 0 && rows.length < count;
      },
      all,
    );
    const texts = await items.allInnerTexts();
    assert.ok(texts.length > 0);
    for (const text of texts) assert.match(text, /^SMS/);
    await page.close();
  });

  test('a new entry appears live, rendered as text', async () => {
    const { page } = await open(1280);
    const name = (await page.locator('#patient-mrn').innerText()).trim();
    const body = '<img src=x onerror="window.__pwned=1"> Running 10 min late, sorry!';
    await logEntry(name, body);
    const item = page.getByRole('listitem').filter({ hasText: 'Running 10 min late, sorry!' });
    await item.waitFor({ timeout: 10_000 });
    assert.ok((await item.innerText()).includes('<img src=x'));
    assert.equal(await page.evaluate(() => (window as { __pwned?: number }).__pwned), undefined);
    await page.close();
  });

  test('the banner shows a patient’s alerts, and none when the page shows all patients', async () => {
    const { page, errors } = await open(1280);
    const alerts = page.getByRole('list', { name: 'Alerts' }).getByRole('listitem');
    await page.locator('#patient-select').selectOption({ label: 'Noah Williams (SMS opted out)' });
    await page.locator('#patient-name', { hasText: 'Noah Williams' }).waitFor();
    assert.deepEqual(await alerts.allInnerTexts(), ['Allergy: Sulfonamides', 'SMS opted out']);
    // Each patient's own alerts: Aiko has no allergy on file.
    await page.locator('#patient-select').selectOption({ label: 'Aiko Tanaka' });
    await page.locator('#patient-name', { hasText: 'Aiko Tanaka' }).waitFor();
    assert.deepEqual(await alerts.allInnerTexts(), []);

    // Aiko texts STOP from her phone in another tab; back on the chart, the banner says so without a reload.
    const phone = await browser.newPage();
    await phone.goto(`${server.url}/sandbox/phone?phone=%2B61491570157`);
    await page.evaluate(() => Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true }));
    await phone.getByRole('button', { name: 'STOP', exact: true }).click();
    await page.getByRole('list', { name: 'Correspondence' }).getByRole('listitem').filter({ hasText: 'STOP' }).first().waitFor({ timeout: 15_000 });
    assert.deepEqual(await alerts.allInnerTexts(), [], 'a hidden page has not reloaded yet');
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await page.locator('#patient-opted-out').waitFor();
    assert.deepEqual(await alerts.allInnerTexts(), ['SMS opted out']);
    assert.equal(await page.locator('#patient-select option:checked').innerText(), 'Aiko Tanaka (SMS opted out)');
    // START again, for the other tests; the window's focus reloads too.
    await phone.getByRole('button', { name: 'START', exact: true }).click();
    await page.getByRole('list', { name: 'Correspondence' }).getByRole('listitem').filter({ hasText: 'START' }).first().waitFor({ timeout: 15_000 });
    await phone.close();
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await page.locator('#patient-opted-out').waitFor({ state: 'hidden' });
    await page.locator('#patient-select').selectOption({ label: 'All patients' });
    await page.locator('#patient-name', { hasText: 'All patients' }).waitFor();
    assert.equal(await page.title(), 'All patients · Meridian EHR (CareComms demo)', 'the tab no longer names the patient shown before');
    assert.deepEqual(await alerts.allInnerTexts(), []);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the practitioner switcher re-mints the session: Dr Patel sees only granted patients', async () => {
    const { page } = await open(1280);
    await page.locator('#practitioner-select').selectOption('dr-patel');
    await page.waitForFunction(() => ![...document.querySelectorAll('#patient-select option')].some((o) => o.textContent === 'Lucas Silva'));
    const options = (await page.locator('#patient-select option').allInnerTexts()).map((o) => o.trim());
    assert.deepEqual(options.filter((o) => o !== 'All patients').sort(), ['Aiko Tanaka', 'Fatima Rahman', 'Margaret Thompson']);
    await page.locator('care-comms').getByText('Dr Ravi Patel', { exact: true }).waitFor();
    await page.close();
  });

  test('the SMS dialog opens, closes with Escape and gives focus back', async () => {
    const { page } = await open(1280);
    const opener = page.getByRole('button', { name: 'Send SMS', exact: true });
    await opener.click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    assert.ok(await dialog.isVisible());
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    const focused = await page.evaluate(() => {
      let el: Element | null = document.activeElement;
      while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
      return el?.textContent?.trim();
    });
    assert.equal(focused, 'Send SMS');
    await page.close();
  });

  test('fits a 375 px phone without sideways scrolling', async () => {
    const { page, errors } = await open(375, 800);
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 375);
    // The chart's tabs scroll sideways; the open one (Communications, the last) is in view, not cut off.
    const placed = await page.evaluate(() => {
      const tab = document.querySelector('[role="tab"][aria-selected="true"]')!.getBoundingClientRect();
      const strip = document.querySelector('[role="tablist"]')!.getBoundingClientRect();
      return { tabLeft: tab.left, tabRight: tab.right, stripLeft: strip.left, stripRight: strip.right };
    });
    assert.ok(placed.tabLeft >= placed.stripLeft - 0.5 && placed.tabRight <= placed.stripRight + 0.5, JSON.stringify(placed));
    await page.getByRole('button', { name: 'Send SMS', exact: true }).click();
    await page.getByRole('dialog').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 375);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('stops cleanly on SIGTERM', async () => {
    const code = await server.stop('SIGTERM');
    assert.equal(code, 0, server.output());
  });
});
