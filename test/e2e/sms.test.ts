import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, startRealServer, type RunningServer } from './harness.js';

/**
 * SMS end to end in the sandbox: the practitioner texts from the demo EHR page,
 * the patient phone simulator receives it, the reply and a STOP come back
 * live, and the widget then refuses to text an opted-out patient.
 */
describe('SMS in the sandbox', () => {
  let server: RunningServer;
  let browser: Browser;
  before(async () => {
    server = await startRealServer({ SANDBOX_LATENCY_MS: '150' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const rows = (page: Page) => page.locator('care-comms').getByRole('list', { name: 'Correspondence' }).getByRole('listitem');

  async function chartFor(patientName: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(server.url + '/');
    await rows(page).first().waitFor();
    await page.locator('#patient-select').selectOption({ label: patientName });
    await page.locator('#patient-name', { hasText: patientName }).waitFor();
    return page;
  }

  test('text a patient, see it delivered, see the reply and a STOP arrive live', async () => {
    const page = await chartFor('Lucas Silva');
    const phone = await browser.newPage({ viewport: { width: 390, height: 800 } });
    await phone.goto(`${server.url}/sandbox/phone?phone=${encodeURIComponent('+61491570158')}`);

    await page.getByRole('button', { name: 'Send SMS', exact: true }).click();
    await page.getByRole('dialog', { name: 'Send SMS' }).waitFor();
    // Slotted dialog content lives in the element's shadow root, not under the <dialog>.
    const dialog = page.locator('care-sms-dialog');
    // The patient is preselected from the chart, with the phone shown.
    await dialog.getByText('+61 491 570 158').first().waitFor();
    const box = dialog.getByRole('textbox', { name: 'Message' });
    await box.fill('Hi Lucas, your results are in — all normal. 😀');
    await dialog.getByText('1 SMS segment').waitFor();
    await box.fill('x'.repeat(161));
    await dialog.getByText('2 SMS segments').waitFor();
    const body = `Hi Lucas, your scan is booked for Tuesday 9:15am <b>bring</b> your referral. ${Date.now()}`;
    await box.fill(body);
    await dialog.getByRole('button', { name: 'Send SMS' }).click();
    await dialog.getByText('Message sent to Lucas Silva').waitFor();
    await dialog.getByRole('button', { name: 'Done' }).click();

    // The entry is in the list at once and turns Delivered live.
    const sent = rows(page).filter({ hasText: body });
    await sent.waitFor();
    await sent.filter({ hasText: 'Delivered' }).waitFor({ timeout: 15_000 });
    assert.ok((await sent.innerText()).includes('<b>bring</b>'), 'body rendered as text');

    // The phone shows it, and the patient replies.
    await phone.getByText(body).waitFor({ timeout: 15_000 });
    await phone.getByRole('textbox', { name: 'Reply' }).fill('Thanks, I will be there');
    await phone.getByRole('button', { name: 'Send' }).click();
    const reply = rows(page).filter({ hasText: 'Thanks, I will be there' });
    await reply.waitFor({ timeout: 15_000 });
    assert.match(await reply.innerText(), /Inbound/);

    // STOP opts the patient out: the reply shows, and the dialog refuses to send.
    await phone.getByRole('button', { name: 'STOP', exact: true }).click();
    await rows(page).filter({ hasText: 'STOP' }).waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Send SMS', exact: true }).click();
    await dialog.getByText(/opted out/i).first().waitFor();
    assert.equal(await dialog.getByRole('button', { name: 'Send SMS' }).isEnabled(), false);

    // The server agrees, whatever the page shows.
    const token = await page.evaluate(() => document.querySelector('care-comms')!.getAttribute('token'));
    const patients = await (await fetch(`${server.url}/api/v1/patients?q=Lucas`, { headers: { authorization: `Bearer ${token}` } })).json();
    const res = await fetch(`${server.url}/api/v1/patients/${patients.items[0].id}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ body: 'Are you there?' }),
    });
    assert.equal(res.status, 409);
    assert.equal((await res.json()).code, 'opted_out');
    await page.close();
    await phone.close();
  });

  test('a patient with no mobile cannot be texted, and the dialog says why', async () => {
    const page = await chartFor('Grace Kim');
    await page.getByRole('button', { name: 'Send SMS', exact: true }).click();
    const dialog = page.locator('care-sms-dialog');
    await dialog.getByText('Grace Kim has no mobile number on file.').waitFor();
    assert.equal(await dialog.getByRole('button', { name: 'Send SMS' }).isEnabled(), false);
    await page.close();
  });
});
