import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys, setViewport } from '@web/test-runner-commands';
import { getLocalMedia, VideoSession } from '@carecomms/sdk/video';
import { CareDialog } from '../dialog/dialog.js';
import type { CareVideoEndedEvent, CareVideoStartedEvent } from '../video-events.js';
import { define } from '../lazy.js';
import { CarePatientPicker } from '../patient-picker/patient-picker.js';
import { FakeServer } from '../test-fixtures/fake-server.js';
import { deepActiveElement } from '../test-fixtures/helpers.js';
import { CareVideoDialog } from './video-dialog.js';

define('care-dialog', CareDialog);
define('care-patient-picker', CarePatientPicker);
define('care-video-dialog', CareVideoDialog);

const sessions: VideoSession[] = [];
afterEach(() => {
  for (const session of sessions.splice(0)) session.leave();
  document.querySelectorAll('care-video-dialog').forEach((el) => el.remove());
});

async function setup(patientId = 'pat-1') {
  const server = new FakeServer();
  const client = server.client();
  const el = await fixture<CareVideoDialog>(html`<care-video-dialog .client=${client} patient-id=${patientId} open></care-video-dialog>`);
  const root = el.shadowRoot!;
  const $ = <T extends Element = HTMLElement>(selector: string) => root.querySelector<T>(selector);
  const picker = $<CarePatientPicker>('care-patient-picker')!;
  await waitUntil(() => picker.patient, 'patient loaded');
  await el.updateComplete;
  return { server, client, el, root, $ };
}

/** Starts a call and waits for the join link. */
async function start(ctx: Awaited<ReturnType<typeof setup>>) {
  const started = oneEvent(ctx.el, 'care-video-started') as unknown as Promise<CareVideoStartedEvent>;
  ctx.$<HTMLButtonElement>('[part="start-button"]')!.click();
  const event = await started;
  await waitUntil(() => ctx.$('[part="join-link-input"]'), 'call view');
  return event;
}

/** The patient's side, in the same page: a real WebRTC peer through the fake server's relay. */
async function patientJoins(server: FakeServer, visitId: string): Promise<VideoSession> {
  const session = new VideoSession({
    provider: 'sandbox',
    role: 'patient',
    baseUrl: 'https://carecomms.test',
    visitId,
    token: server.video.patientToken(visitId),
    roomName: `room-${visitId}`,
    localStream: await getLocalMedia(),
    fetch: server.fetch,
  });
  sessions.push(session);
  await session.connect();
  return session;
}

const videoPlaying = (video: HTMLVideoElement) => video.videoWidth > 0 && !video.paused && video.currentTime > 0;

describe('care-video-dialog', function () {
  // Real camera, microphone and WebRTC (fake devices): slower than the other elements' tests.
  this.timeout(90_000);

  it('starts a visit for the chosen patient: waiting state, join link, timer, controls', async () => {
    const ctx = await setup();
    const { el, $, server } = ctx;
    expect($('[part="start-button"]')!.textContent).to.contain('Start video call');
    const event = await start(ctx);
    expect(event.patient?.name).to.equal('Aroha Ngata');
    expect(event.visitId).to.equal(server.video.visits[0]!.visit.id);
    expect($<HTMLInputElement>('[part="join-link-input"]')!.value).to.equal(server.video.visits[0]!.visit.joinUrl);
    await waitUntil(() => $('[part="status"]')!.textContent!.includes('Waiting for Aroha Ngata to join'), 'waiting');
    expect($('[part="timer"]')!.textContent).to.equal('0:00');
    expect($('[part="mute-button"]')!.getAttribute('aria-pressed')).to.equal('false');
    expect($('[part="camera-button"]')!.getAttribute('aria-pressed')).to.equal('true');
    const local = $<HTMLVideoElement>('[part="local-video"]')!;
    await waitUntil(() => videoPlaying(local), 'own camera playing', { timeout: 5000 });
    expect(el.inCall).to.be.true;
    // The waiting spinner turns forever, so wait out the dialog's entrance instead of every animation.
    await new Promise((r) => setTimeout(r, 400));
    await expect(el).to.be.accessible({ ignoredRules: ['video-caption'] });
  });

  it('keeps the invitation and device pickers inside their column on a wide screen', async () => {
    // Wide enough for the call view's two columns (the video, then an 18rem side column).
    await setViewport({ width: 1280, height: 900 });
    try {
      const ctx = await setup();
      await start(ctx);
      const side = ctx.$('.side')!;
      await waitUntil(() => side.querySelectorAll('select option').length >= 2, 'camera and microphone listed');
      expect(getComputedStyle(ctx.$('.call')!).gridTemplateColumns.split(' ')).to.have.length(2);
      const edge = side.getBoundingClientRect().right;
      const beyond = [...side.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > edge + 0.5).map((e) => e.localName);
      expect(beyond, 'elements reaching past the side column').to.deep.equal([]);
    } finally {
      await setViewport({ width: 800, height: 600 });
    }
  });

  it('stays a full-screen sheet on a phone during a call', async () => {
    await setViewport({ width: 400, height: 800 });
    try {
      const ctx = await setup();
      await start(ctx);
      const dialog = ctx.$('care-dialog')!.shadowRoot!.querySelector('dialog')!;
      await Promise.all(dialog.getAnimations().map((a) => a.finished));
      const box = dialog.getBoundingClientRect();
      expect([box.left, box.top, box.width, box.height]).to.deep.equal([0, 0, 400, 800]);
    } finally {
      await setViewport({ width: 800, height: 600 });
    }
  });

  it('shows the patient large once they join, with a running timer, and toggles mute and camera', async () => {
    const ctx = await setup();
    const { $, server } = ctx;
    await start(ctx);
    const patient = await patientJoins(server, server.video.visits[0]!.visit.id);
    await waitUntil(() => $('[part="status"]')!.textContent!.includes('Aroha Ngata joined'), 'patient joined', { timeout: 8000 });
    const remote = $<HTMLVideoElement>('[part="remote-video"]')!;
    await waitUntil(() => videoPlaying(remote), 'remote video playing', { timeout: 8000 });
    await waitUntil(() => patient.state === 'connected', 'patient connected');

    const mute = $<HTMLButtonElement>('[part="mute-button"]')!;
    mute.click();
    await ctx.el.updateComplete;
    expect(mute.getAttribute('aria-pressed')).to.equal('true');
    await waitUntil(() => patient.remoteMedia.audio === false, 'patient told of mute');
    const camera = $<HTMLButtonElement>('[part="camera-button"]')!;
    camera.click();
    await ctx.el.updateComplete;
    expect(camera.getAttribute('aria-pressed')).to.equal('false');
    await waitUntil(() => patient.remoteMedia.video === false, 'patient told camera off');
    patient.setMicrophoneEnabled(false);
    await waitUntil(() => $('.badge.remote-muted'), 'practitioner sees the patient muted');

    // m:ss, counting from when the patient joined (a busy machine may skip a second).
    await waitUntil(() => /^0:0[1-9]$/.test($('[part="timer"]')!.textContent!), 'timer running', { timeout: 8000 });

    // The patient leaves: back to waiting.
    patient.leave();
    await waitUntil(() => $('[part="status"]')!.textContent!.includes('Waiting for Aroha Ngata'), 'waiting again', { timeout: 8000 });
  });

  it('copies the link and texts it, with confirmations; a patient who cannot be texted is explained', async () => {
    const ctx = await setup();
    await start(ctx);
    const copied: string[] = [];
    const clipboard = Object.getOwnPropertyDescriptor(Navigator.prototype, 'clipboard')!;
    // Headless Chromium refuses clipboard writes without a user's permission; a real click has it.
    Object.defineProperty(navigator, 'clipboard', { configurable: true, value: { writeText: async (text: string) => void copied.push(text) } });
    try {
      ctx.$<HTMLButtonElement>('[part="copy-button"]')!.click();
      await waitUntil(() => ctx.$('.link-status')?.textContent?.includes('Link copied'), 'copied');
      expect(copied).to.deep.equal([ctx.server.video.visits[0]!.visit.joinUrl]);
    } finally {
      delete (navigator as { clipboard?: unknown }).clipboard;
      Object.defineProperty(Navigator.prototype, 'clipboard', clipboard);
    }
    ctx.$<HTMLButtonElement>('[part="send-link-button"]')!.click();
    await waitUntil(() => ctx.$('.link-status')?.textContent?.includes('Link sent by SMS to +61 491 570 006'), 'sent');

    const optedOut = await setup('pat-3');
    await start(optedOut);
    expect(optedOut.$<HTMLButtonElement>('[part="send-link-button"]')!.disabled).to.be.true;
    expect(optedOut.$('[part="join-link"]')!.textContent).to.contain('Opted out of SMS');
  });

  it('asks before closing during a call: Keep call keeps it, End call ends it and reports the logged visit', async () => {
    const ctx = await setup();
    const { el, $ } = ctx;
    await start(ctx);
    const dialog = $<CareDialog>('care-dialog')!;
    dialog.shadowRoot!.querySelector<HTMLButtonElement>('[part="close-button"]')!.click();
    await el.updateComplete;
    const confirm = $('[part="confirm-end"]')!;
    expect(confirm.getAttribute('role')).to.equal('alertdialog');
    await waitUntil(() => deepActiveElement()?.textContent?.trim() === 'Keep call', 'focus on Keep call');
    expect(dialog.open).to.be.true;
    await sendKeys({ press: 'Enter' });
    await el.updateComplete;
    expect($('[part="confirm-end"]')).to.be.null;
    expect(dialog.open).to.be.true;

    await sendKeys({ press: 'Escape' });
    await el.updateComplete;
    const ended = oneEvent(el, 'care-video-ended') as unknown as Promise<CareVideoEndedEvent>;
    [...$('[part="confirm-end"]')!.querySelectorAll('button')].find((b) => b.textContent!.includes('End call'))!.click();
    const event = await ended;
    expect(event.reason).to.equal('left');
    expect(event.entry?.status).to.equal('completed');
    expect(event.entry?.channel).to.equal('video');
    await waitUntil(() => !dialog.open, 'dialog closed');
    expect(ctx.server.video.visits[0]!.ended).to.be.true;
  });

  it('End call shows the logged duration and Done closes', async () => {
    const ctx = await setup();
    await start(ctx);
    ctx.$<HTMLButtonElement>('[part="end-button"]')!.click();
    await waitUntil(() => ctx.$('[part="summary"]'), 'summary');
    expect(ctx.$('[part="summary"]')!.textContent).to.contain('Video call ended');
    expect(ctx.$('[part="summary"] .duration')!.textContent).to.match(/^\d+:\d\d$/);
    await waitUntil(() => deepActiveElement()?.textContent?.trim() === 'Done', 'focus on Done');
    const session = ctx.el.shadowRoot!.querySelector('video[part="local-video"]');
    expect(session, 'the stage is gone').to.be.null;
  });

  it('explains a blocked camera and lets the practitioner try again', async () => {
    const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
    try {
      const ctx = await setup();
      ctx.$<HTMLButtonElement>('[part="start-button"]')!.click();
      await waitUntil(() => ctx.$('[part="error"]'), 'error shown');
      expect(ctx.$('[part="error"]')!.textContent).to.contain('Camera and microphone are blocked');
      expect(ctx.server.video.visits, 'no visit created').to.have.length(0);
      expect(ctx.$<HTMLButtonElement>('[part="start-button"]')!.disabled).to.be.false;
    } finally {
      navigator.mediaDevices.getUserMedia = original;
    }
  });
});
