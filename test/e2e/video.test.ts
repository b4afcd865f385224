import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, startRealServer, type RunningServer } from './harness.js';

/**
 * Video visits end to end in the sandbox: the real server binary, the demo EHR
 * page in one Chromium page and the patient's join page in another, both with
 * a fake camera and microphone, talking real WebRTC signalled through the server.
 */
describe('video visits in the sandbox', () => {
  let server: RunningServer;
  let browser: Browser;
  before(async () => {
    server = await startRealServer();
    // Two pages that must both keep sending camera frames: the one not in front must not be throttled.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS, '--disable-renderer-backgrounding', '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows'],
      headless: true,
    });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  function watchErrors(page: Page): string[] {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    return errors;
  }

  async function chartFor(patientName: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(server.url + '/');
    await page.locator('care-comms').getByRole('list', { name: 'Correspondence' }).getByRole('listitem').first().waitFor();
    await page.locator('#patient-select').selectOption({ label: patientName });
    await page.locator('#patient-name', { hasText: patientName }).waitFor();
    return { page, errors };
  }

  /** Starts a visit from the chart's Video Call button; returns the dialog and the patient's link. */
  async function startVisit(page: Page): Promise<{ dialog: Locator; joinUrl: string }> {
    await page.getByRole('button', { name: 'Video Call', exact: true }).click();
    await page.getByRole('dialog', { name: 'Video Call' }).waitFor();
    const dialog = page.locator('care-video-dialog');
    await dialog.getByRole('button', { name: 'Start video call' }).click();
    const link = dialog.getByRole('textbox', { name: 'Patient join link' });
    await link.waitFor();
    return { dialog, joinUrl: await link.inputValue() };
  }

  /** Whether the `<video>` with this part, anywhere in the page's shadow roots, shows moving pictures. */
  async function playing(page: Page, part: string): Promise<void> {
    // A string, not a function: tsx would wrap named inner functions in a helper the page does not have.
    const sample = () =>
      page.evaluate<{ width: number; time: number; paused: boolean } | null>(`(() => {
        const find = (root) => {
          const direct = root.querySelector('video[part="${part}"]');
          if (direct) return direct;
          for (const el of root.querySelectorAll('*')) {
            const found = el.shadowRoot ? find(el.shadowRoot) : null;
            if (found) return found;
          }
          return null;
        };
        const video = find(document);
        return video ? { width: video.videoWidth, time: video.currentTime, paused: video.paused } : null;
      })()`);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const first = await sample();
      if (first && first.width > 0 && !first.paused) {
        await new Promise((r) => setTimeout(r, 600));
        const second = await sample();
        if (second && second.time > first.time) return;
      }
      if (Date.now() > deadline) throw new Error(`${part} is not playing: ${JSON.stringify(first)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const videoEntries = async (page: Page, patientName: string) => {
    const token = await page.evaluate(() => document.querySelector('care-comms')!.getAttribute('token'));
    const headers = { authorization: `Bearer ${token}` };
    const patients = (await (await fetch(`${server.url}/api/v1/patients?q=${encodeURIComponent(patientName)}`, { headers })).json()) as { items: Array<{ id: string }> };
    const res = await fetch(`${server.url}/api/v1/correspondence?channel=video&patientId=${patients.items[0]!.id}`, { headers });
    return ((await res.json()) as { items: Array<{ id: string; status: string; durationSeconds: number | null; session: Record<string, unknown> }> }).items;
  };

  test('practitioner and patient see and hear each other; mute and camera toggle; End logs the visit; the link then answers 410', async () => {
    const { page, errors } = await chartFor('Margaret Thompson');
    const { dialog, joinUrl } = await startVisit(page);
    assert.match(joinUrl, new RegExp(`^${server.url}/join/[A-Za-z0-9_-]{43}$`));
    await dialog.getByText('Waiting for Margaret Thompson to join').first().waitFor();
    await playing(page, 'local-video');

    // The patient, on a phone held upright, opens the link.
    const phone = await browser.newPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const phoneErrors = watchErrors(phone);
    const response = await phone.goto(joinUrl);
    assert.equal(response?.status(), 200);
    const room = phone.locator('care-video-room');
    await room.getByRole('heading', { name: 'Check your camera and microphone' }).waitFor();
    await playing(phone, 'preview');
    await room.getByRole('combobox', { name: 'Camera' }).waitFor();
    await room.getByRole('button', { name: 'Join' }).click();

    await dialog.getByText('Margaret Thompson joined').waitFor({ timeout: 20_000 });
    await room.getByText('Dr Amelia Lee joined').waitFor({ timeout: 20_000 });
    const connectedAt = Date.now();
    await playing(page, 'remote-video');
    await playing(phone, 'remote-video');
    await playing(phone, 'local-video');
    assert.equal(await phone.evaluate(() => document.documentElement.scrollWidth), 375, 'no sideways scrolling on the phone');
    const endButton = room.getByRole('button', { name: 'Leave' });
    const box = await endButton.boundingBox();
    assert.ok(box && box.y + box.height <= 740 + 400, 'the controls are reachable');

    // Mute and camera: toggles whose label says what pressing does, and the other side is told.
    await dialog.getByRole('button', { name: 'Mute', exact: true }).click();
    await room.getByText('Muted', { exact: true }).waitFor();
    await dialog.getByRole('button', { name: 'Turn camera off', exact: true }).click();
    await room.getByText('Camera off', { exact: true }).waitFor();
    await dialog.getByRole('button', { name: 'Turn camera on', exact: true }).click();
    await dialog.getByRole('button', { name: 'Unmute', exact: true }).click();
    await dialog.getByRole('button', { name: 'Mute', exact: true }).waitFor();
    await dialog.getByRole('button', { name: 'Turn camera off', exact: true }).waitFor();
    await room.getByText('Camera off', { exact: true }).waitFor({ state: 'hidden' });
    assert.equal(await dialog.locator('[aria-pressed]').count(), 0, 'the changing labels carry the state');
    await room.getByRole('button', { name: 'Mute', exact: true }).click();
    await dialog.getByText('Muted', { exact: true }).waitFor();
    await room.getByRole('button', { name: 'Unmute', exact: true }).click();

    // Side by side on the practitioner's wide screen: the patient and the practitioner on equal tiles.
    const remoteBox = (await dialog.locator('video[part="remote-video"]').boundingBox())!;
    const localBox = (await dialog.locator('video[part="local-video"]').boundingBox())!;
    assert.ok(Math.abs(remoteBox.width - localBox.width) < 3 && localBox.x >= remoteBox.x + remoteBox.width, 'side by side');

    // The timer runs, as m:ss (h:mm:ss from an hour on).
    const timer = dialog.locator('[part="timer"]');
    const seconds = async () => {
      const [m, ss] = (await timer.innerText()).split(':').map(Number);
      return m! * 60 + ss!;
    };
    const first = await seconds();
    assert.match(await timer.innerText(), /^\d+:\d\d$/);
    await new Promise((r) => setTimeout(r, 2100));
    assert.ok((await seconds()) >= first + 2, 'the timer advances');
    const elapsed = Math.floor((Date.now() - connectedAt) / 1000);

    await dialog.getByRole('button', { name: 'End call' }).click();
    await dialog.getByText('Video call ended').waitFor();
    await room.getByText('The visit has ended').waitFor({ timeout: 10_000 });

    const [entry] = await videoEntries(page, 'Margaret Thompson');
    assert.equal(entry!.status, 'completed');
    assert.ok(entry!.durationSeconds! >= elapsed, `duration ${entry!.durationSeconds} ≥ elapsed ${elapsed}`);
    assert.equal((entry!.session.participants as unknown[]).length, 2);
    // The history shows it, live.
    await page.locator('care-comms').getByRole('listitem').filter({ hasText: 'Video' }).first().waitFor();

    // The page itself answers 410 from now on (which the browser logs); everything before that must be clean.
    const phoneErrorsDuringVisit = [...phoneErrors];
    const gone = await fetch(joinUrl);
    assert.equal(gone.status, 410);
    assert.match(await gone.text(), /This video visit has ended/);
    await phone.reload();
    await phone.getByRole('heading', { name: 'This video visit has ended' }).waitFor();

    await dialog.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('dialog', { name: 'Video Call' }).waitFor({ state: 'hidden' });
    assert.deepEqual(errors, []);
    assert.deepEqual(phoneErrorsDuringVisit, []);
    await phone.close();
    await page.close();
  });

  test('a patient who left and pressed Rejoin is told on the device check when the visit ends, and Join is no longer offered', async () => {
    const { page, errors } = await chartFor('Lucas Silva');
    const { dialog, joinUrl } = await startVisit(page);
    const phone = await browser.newPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    await phone.goto(joinUrl);
    const room = phone.locator('care-video-room');
    await room.getByRole('button', { name: 'Join' }).click();
    await room.getByText('Dr Amelia Lee joined').waitFor({ timeout: 20_000 });
    await room.getByRole('button', { name: 'Leave' }).click();
    await room.getByRole('heading', { name: 'You left the visit' }).waitFor();
    await dialog.getByText('Lucas Silva left the call').first().waitFor({ timeout: 10_000 });

    // Back on the device check, with Join offered: the practitioner ends the visit meanwhile.
    await room.getByRole('button', { name: 'Rejoin' }).click();
    const join = room.getByRole('button', { name: 'Join' });
    await join.waitFor();
    await phone.waitForFunction(() => {
      const button = document.querySelector('care-video-room')?.shadowRoot?.querySelector<HTMLButtonElement>('[part="join-button"]');
      return button && !button.disabled;
    });
    await dialog.getByRole('button', { name: 'End call' }).click();
    await dialog.getByText('Video call ended').waitFor();
    // Told without doing anything (the page keeps checking its link), like reloading it would.
    await room.getByRole('heading', { name: 'This video visit has ended' }).waitFor({ timeout: 25_000 });
    assert.equal(await room.getByRole('button', { name: 'Join' }).count(), 0, 'Join is no longer offered');
    assert.equal(await room.locator('[part="preview"]').count(), 0, 'the camera is released');
    assert.deepEqual(errors, []);
    await phone.close();
    await page.close();
  });

  test('closing the dialog during a call asks first; Keep call keeps it, End call ends and logs it', async () => {
    const { page, errors } = await chartFor('Aiko Tanaka');
    const { dialog } = await startVisit(page);
    await dialog.getByText('Waiting for Aiko Tanaka to join').first().waitFor();
    await page.keyboard.press('Escape');
    const confirm = dialog.getByRole('alertdialog', { name: 'End the video call?' });
    await confirm.waitFor();
    await confirm.getByRole('button', { name: 'Keep call' }).click();
    await confirm.waitFor({ state: 'hidden' });
    assert.ok(await page.getByRole('dialog', { name: 'Video Call' }).isVisible());
    await dialog.getByRole('button', { name: 'Close' }).click();
    await confirm.getByRole('button', { name: 'End call' }).click();
    await page.getByRole('dialog', { name: 'Video Call' }).waitFor({ state: 'hidden' });
    const [entry] = await videoEntries(page, 'Aiko Tanaka');
    assert.equal(entry!.status, 'no-answer', 'the patient never joined');
    assert.equal(entry!.durationSeconds, null);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the patient is told clearly when the camera is blocked, or the link is not valid', async () => {
    const { page } = await chartFor('Fatima Rahman');
    const { joinUrl } = await startVisit(page);
    const phone = await browser.newPage({ viewport: { width: 375, height: 740 } });
    await phone.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
    });
    await phone.goto(joinUrl);
    const room = phone.locator('care-video-room');
    await room.getByRole('alert').filter({ hasText: 'Camera and microphone are blocked' }).waitFor();
    assert.equal(await room.getByRole('button', { name: 'Join' }).isDisabled(), true);
    await room.getByRole('button', { name: 'Try again' }).waitFor();

    const forged = await phone.goto(`${server.url}/join/${'A'.repeat(43)}`);
    assert.equal(forged?.status(), 404);
    await phone.getByRole('heading', { name: 'This link is not recognised' }).waitFor();
    await phone.close();
    await page.close();
  });
});
