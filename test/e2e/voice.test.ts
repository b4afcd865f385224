import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, startRealServer, type RunningServer } from './harness.js';

/**
 * Voice end to end in the sandbox: the practitioner calls from the demo EHR
 * page, the patient phone simulator rings and answers, and the two Chromium
 * pages talk over real WebRTC audio (Chromium's fake microphone tone). Mute
 * and hold are checked where they matter: in the audio the phone receives.
 */
describe('voice calls in the sandbox', () => {
  let server: RunningServer;
  let browser: Browser;
  before(async () => {
    server = await startRealServer({ SANDBOX_RING_TIMEOUT_MS: '20000' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const rows = (page: Page) => page.locator('care-comms').getByRole('list', { name: 'Correspondence' }).getByRole('listitem');

  /** Console errors and page errors, to assert none happened. */
  function watchErrors(page: Page): string[] {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    return errors;
  }

  async function chartFor(patientName: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(server.url + '/');
    await rows(page).first().waitFor();
    await page.locator('#patient-select').selectOption({ label: patientName });
    await page.locator('#patient-name', { hasText: patientName }).waitFor();
    return page;
  }

  async function phoneFor(number: string): Promise<Page> {
    const phone = await browser.newPage({ viewport: { width: 390, height: 800 } });
    await phone.goto(`${server.url}/sandbox/phone?phone=${encodeURIComponent(number)}`);
    await phone.locator('#connection[data-live="true"]').waitFor();
    return phone;
  }

  /** The loudest the phone heard the clinic over `ms` (its meter samples 10 times a second). */
  async function loudest(phone: Page, ms: number): Promise<number> {
    return phone.evaluate(async (duration) => {
      const meter = document.getElementById('remote-level')!;
      let max = 0;
      const end = Date.now() + duration;
      while (Date.now() < end) {
        max = Math.max(max, Number(meter.dataset.level ?? 0));
        await new Promise((r) => setTimeout(r, 50));
      }
      return max;
    }, ms);
  }

  async function latestVoiceEntry(page: Page, patientId: string) {
    const token = await page.locator('care-comms').getAttribute('token');
    const res = await fetch(`${server.url}/api/v1/correspondence?patientId=${patientId}&channel=voice&limit=1`, { headers: { authorization: `Bearer ${token}` } });
    return ((await res.json()) as { items: Array<{ status: string; durationSeconds: number | null; session: Record<string, unknown> }> }).items[0]!;
  }

  test('call a patient: the phone rings and answers, the timer runs, mute and hold reach the phone, End logs the call with its duration', async () => {
    const page = await chartFor('Aiko Tanaka');
    const pageErrors = watchErrors(page);
    const phone = await phoneFor('+61491570157');
    const phoneErrors = watchErrors(phone);
    const patientId = await page.locator('care-comms').getAttribute('patient-id');

    await page.getByRole('button', { name: 'Make Call', exact: true }).click();
    await page.getByRole('dialog', { name: 'Make Call' }).waitFor();
    const dialog = page.locator('care-call-dialog');
    await dialog.getByText('+61 491 570 157').first().waitFor();
    await dialog.getByRole('button', { name: 'Start call' }).click();

    // The phone rings with the clinic's name; the widget says so.
    const incoming = phone.locator('#call-incoming');
    await incoming.waitFor();
    assert.equal(await phone.locator('#incoming-name').textContent(), 'Demo Clinic');
    const status = dialog.locator('[part~="status"]');
    await status.filter({ hasText: 'Ringing…' }).waitFor();
    // The new voice entry is in the list at once.
    await rows(page).filter({ hasText: 'Voice' }).first().filter({ hasText: 'Ringing' }).waitFor();

    await phone.getByRole('button', { name: 'Answer' }).click();
    await status.filter({ hasText: 'In call' }).waitFor();
    const answeredAt = Date.now();
    await phone.locator('#call-active').waitFor();
    await phone.locator('#call-status', { hasText: 'Connected' }).waitFor({ timeout: 15_000 });

    // Real audio flows: the practitioner's meter moves and the phone hears the clinic.
    const timer = dialog.getByRole('timer', { name: 'Call duration' });
    const first = await timer.textContent();
    assert.match(first!.trim(), /^0:0\d$/);
    await page.waitForFunction(
      () => Number(document.querySelector('care-comms')?.shadowRoot?.querySelector('care-call-dialog')?.shadowRoot?.querySelector('[part~="level"]')?.getAttribute('aria-valuenow') ?? 0) > 0,
      undefined,
      { timeout: 10_000 },
    );
    assert.ok((await loudest(phone, 2500)) > 0.01, 'the phone hears the clinic');
    const later = (await timer.textContent())!.trim();
    assert.notEqual(later, first!.trim(), 'the timer runs');

    // Mute: the phone hears nothing, and is told.
    const mute = dialog.getByRole('button', { name: 'Mute', exact: true });
    await mute.click();
    const unmute = dialog.getByRole('button', { name: 'Unmute', exact: true });
    await unmute.waitFor();
    await phone.locator('#clinic-muted').waitFor();
    await phone.waitForTimeout(300);
    assert.ok((await loudest(phone, 2000)) < 0.005, 'muted: silence on the phone');
    await unmute.click();
    await mute.waitFor();
    await phone.locator('#clinic-muted').waitFor({ state: 'hidden' });
    assert.ok((await loudest(phone, 2500)) > 0.01, 'unmuted: the clinic is heard again');

    // Hold: the phone shows On hold and the clinic's audio stops; Resume brings it back.
    const hold = dialog.getByRole('button', { name: 'Hold' });
    await hold.click();
    const resume = dialog.getByRole('button', { name: 'Resume' });
    await resume.waitFor();
    await status.filter({ hasText: 'On hold' }).waitFor();
    await phone.locator('#call-status', { hasText: 'On hold' }).waitFor();
    await phone.waitForTimeout(300);
    assert.ok((await loudest(phone, 1500)) < 0.005, 'on hold: the clinic is not heard');
    await resume.click();
    await hold.waitFor();
    await phone.locator('#call-status', { hasText: 'Connected' }).waitFor();

    // Notes typed during the call are saved on the entry.
    await dialog.getByRole('textbox', { name: 'Call notes' }).fill('Confirmed the new inhaler dose.');
    await dialog.getByText('Saved').waitFor({ timeout: 5000 });

    await dialog.getByRole('button', { name: 'End call' }).click();
    const endedAt = Date.now();
    await status.filter({ hasText: 'Call ended' }).waitFor();
    await phone.locator('#call-status', { hasText: 'Call ended' }).waitFor();
    const callSeconds = Math.floor((endedAt - answeredAt) / 1000);
    assert.ok(callSeconds >= 5, `the call lasted ${callSeconds} s`);

    // The history has the completed call with its duration, live in the widget too.
    let entry = await latestVoiceEntry(page, patientId!);
    for (let i = 0; i < 50 && entry.status !== 'completed'; i++) {
      await page.waitForTimeout(100);
      entry = await latestVoiceEntry(page, patientId!);
    }
    assert.equal(entry.status, 'completed');
    assert.ok(entry.durationSeconds! >= callSeconds, `logged ${entry.durationSeconds} s for a ${callSeconds} s call`);
    assert.equal(entry.session.endedBy, 'practitioner');
    const row = rows(page).filter({ hasText: 'Confirmed the new inhaler dose.' });
    await row.filter({ hasText: 'Completed' }).waitFor();
    assert.match(await row.innerText(), /Duration 0:\d\d/);
    assert.equal((await dialog.getByRole('timer', { name: 'Call duration' }).textContent())!.trim(), `0:${String(entry.durationSeconds).padStart(2, '0')}`);

    // Back on the phone's messages once the call screen has shown how it ended.
    await phone.locator('#messages').waitFor({ timeout: 5000 });
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(phoneErrors, []);
    await page.close();
    await phone.close();
  });

  test('a declined call shows busy in the widget and the history', async () => {
    const page = await chartFor('Fatima Rahman');
    const phone = await phoneFor('+61491570159');
    const patientId = await page.locator('care-comms').getAttribute('patient-id');
    await page.getByRole('button', { name: 'Make Call', exact: true }).click();
    const dialog = page.locator('care-call-dialog');
    await dialog.getByText('+61 491 570 159').first().waitFor();
    await dialog.getByRole('button', { name: 'Start call' }).click();
    await phone.locator('#call-incoming').waitFor();
    await phone.getByRole('button', { name: 'Decline' }).click();
    await dialog.locator('[part~="status"]', { hasText: 'Busy' }).waitFor();
    await phone.locator('#call-status', { hasText: 'Call declined' }).waitFor();
    const entry = await latestVoiceEntry(page, patientId!);
    assert.equal(entry.status, 'busy');
    assert.equal(entry.durationSeconds, null);
    await rows(page).filter({ hasText: 'Busy' }).first().waitFor();
    await page.close();
    await phone.close();
  });
});
