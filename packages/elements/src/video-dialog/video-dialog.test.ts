import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys, sendMouse, setViewport } from '@web/test-runner-commands';
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
  // Tests that size the window put it back to the runner's 800×600.
  afterEach(() => setViewport({ width: 800, height: 600 }));

  it('starts a visit for the chosen patient: waiting state, join link, timer, controls', async () => {
    const ctx = await setup();
    const { el, $, server } = ctx;
    expect($('[part="start-button"]')!.textContent).to.contain('Start video call');
    const event = await start(ctx);
    expect(event.patient?.name).to.equal('Aroha Ngata');
    expect(event.visitId).to.equal(server.video.visits[0]!.visit.id);
    expect($<HTMLInputElement>('[part="join-link-input"]')!.value).to.equal(server.video.visits[0]!.visit.joinUrl);
    await waitUntil(() => $('[part="status"]')!.textContent!.includes('Waiting for Aroha Ngata to join'), 'waiting');
    // No 0:00 standing still while nobody has joined: the timer shows once the patient is there.
    expect($('[part="timer"]')?.textContent ?? null, 'no timer before the patient joins').to.be.null;
    // Labels say what pressing does; with a changing label, aria-pressed would contradict it.
    for (const [part, label] of [
      ['mute-button', 'Mute'],
      ['camera-button', 'Turn camera off'],
      ['screen-share-button', 'Share screen'],
    ]) {
      const button = $(`[part="${part}"]`)!;
      expect(button.textContent!.trim(), part).to.equal(label);
      expect(button.hasAttribute('aria-pressed'), part).to.be.false;
      expect(button.classList.contains('active'), part).to.be.false;
    }
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
    const ctx = await setup();
    await start(ctx);
    const side = ctx.$('.side')!;
    await waitUntil(() => side.querySelectorAll('select option').length >= 2, 'camera and microphone listed');
    expect(getComputedStyle(ctx.$('.call')!).gridTemplateColumns.split(' ')).to.have.length(2);
    const edge = side.getBoundingClientRect().right;
    const beyond = [...side.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > edge + 0.5).map((e) => e.localName);
    expect(beyond, 'elements reaching past the side column').to.deep.equal([]);
  });

  it('shows the whole join link, readable and still selectable, beside the video or inset, and on a phone', async () => {
    /** The link field: every character in view, the field as wide as its panel allows, inside it. */
    const showsWholeLink = (ctx: Awaited<ReturnType<typeof setup>>, label: string) => {
      const field = ctx.$<HTMLTextAreaElement>('[part="join-link-input"]')!;
      expect(field.value, label).to.equal(ctx.server.video.visits.at(-1)!.visit.joinUrl);
      expect(field.scrollWidth, `${label}: nothing cut off sideways`).to.be.at.most(field.clientWidth);
      expect(field.scrollHeight, `${label}: nothing cut off below`).to.be.at.most(field.clientHeight + 1);
      const panel = ctx.$('[part="join-link"]')!;
      const inner = panel.clientWidth - parseFloat(getComputedStyle(panel).paddingLeft) - parseFloat(getComputedStyle(panel).paddingRight);
      const box = field.getBoundingClientRect();
      // Either the whole row (Copy beneath it) or the row beside Copy when the panel is wide.
      const copy = ctx.$('[part="copy-button"]')!.getBoundingClientRect();
      const room = copy.top >= box.bottom ? inner : inner - copy.width - 8;
      // Within a few pixels: under a loaded CI run the field measured 5 px short of the panel (a scrollbar's gutter
      // while the side column settles); what this guards against is a field a third as wide ("http://127.0…").
      expect(box.width, `${label}: uses the panel's width`).to.be.at.least(room - 8);
      expect(box.right, `${label}: inside the panel`).to.be.at.most(panel.getBoundingClientRect().right);
      expect(copy.right, `${label}: Copy inside the panel`).to.be.at.most(panel.getBoundingClientRect().right);
      // Focusing it selects the whole link, ready to copy by hand.
      field.focus();
      expect(field.value.slice(field.selectionStart, field.selectionEnd), `${label}: selected on focus`).to.equal(field.value);
      field.blur();
    };

    /** The side column settles once the camera and microphone are listed beside the link. */
    const settled = async (ctx: Awaited<ReturnType<typeof setup>>) => {
      await waitUntil(() => ctx.$('.side')!.querySelectorAll('select option').length >= 2, 'camera and microphone listed');
      await new Promise(requestAnimationFrame);
    };

    await setViewport({ width: 1280, height: 900 });
    const wide = await setup();
    await start(wide);
    await settled(wide);
    showsWholeLink(wide, 'side by side');
    wide.$<HTMLButtonElement>('[part="layout-button"]')!.click();
    await wide.el.updateComplete;
    expect(wide.$('[part="layout-button"]')!.textContent!.trim()).to.equal('Side by side');
    showsWholeLink(wide, 'inset');
    wide.el.remove();

    await setViewport({ width: 400, height: 800 });
    const phone = await setup();
    await start(phone);
    await settled(phone);
    showsWholeLink(phone, 'phone');
  });

  it('stays a full-screen sheet on a phone during a call', async () => {
    await setViewport({ width: 400, height: 800 });
    const ctx = await setup();
    await start(ctx);
    const dialog = ctx.$('care-dialog')!.shadowRoot!.querySelector('dialog')!;
    await Promise.all(dialog.getAnimations().map((a) => a.finished));
    const box = dialog.getBoundingClientRect();
    expect([box.left, box.top, box.width, box.height]).to.deep.equal([0, 0, 400, 800]);
  });

  it('shows the patient and the practitioner side by side on a wide screen, or the practitioner inset, as chosen', async () => {
    await setViewport({ width: 1280, height: 900 });
    const ctx = await setup();
    const { el, $, server } = ctx;
    await start(ctx);
    await patientJoins(server, server.video.visits[0]!.visit.id);
    const remote = $<HTMLVideoElement>('[part="remote-video"]')!;
    const local = $<HTMLVideoElement>('[part="local-video"]')!;
    await waitUntil(() => videoPlaying(remote), 'remote video playing', { timeout: 8000 });
    expect($('[part="stage"]')!.textContent).to.contain('Aroha Ngata').and.to.contain('You');

    let r = remote.getBoundingClientRect();
    let l = local.getBoundingClientRect();
    expect(Math.abs(r.width - l.width), 'equal widths').to.be.below(3);
    expect(Math.abs(r.top - l.top), 'one row').to.be.below(1);
    expect(l.left, 'no overlap').to.be.at.least(r.right);
    expect(r.width, 'each a real half').to.be.above(250);

    const layout = $<HTMLButtonElement>('[part="layout-button"]')!;
    expect(layout.textContent!.trim()).to.equal('Picture in picture');
    expect(layout.hasAttribute('aria-pressed')).to.be.false;
    layout.click();
    await el.updateComplete;
    expect(layout.textContent!.trim()).to.equal('Side by side');
    // Queried each time: the next call has videos of its own.
    const inset = () => {
      r = $('[part="remote-video"]')!.getBoundingClientRect();
      l = $('[part="local-video"]')!.getBoundingClientRect();
      return l.left >= r.left && l.right <= r.right && l.top >= r.top && l.bottom <= r.bottom && l.width < r.width / 2;
    };
    expect(inset(), 'local inset in the remote').to.be.true;

    // The choice outlives the call: the next one starts inset too.
    $<HTMLButtonElement>('[part="end-button"]')!.click();
    await waitUntil(() => $('[part="summary"]'), 'summary');
    el.hide();
    await waitUntil(() => !$<CareDialog>('care-dialog')!.open, 'closed');
    el.open = true;
    await el.updateComplete;
    await start(ctx);
    expect($('[part="layout-button"]')!.textContent!.trim()).to.equal('Side by side');
    expect(inset(), 'inset in the next call').to.be.true;
  });

  it('keeps the practitioner inset on a phone, with nothing reaching off the screen', async () => {
    await setViewport({ width: 400, height: 800 });
    const ctx = await setup();
    await start(ctx);
    const remote = ctx.$('[part="remote-video"]')!.getBoundingClientRect();
    const local = ctx.$('[part="local-video"]')!.getBoundingClientRect();
    expect(local.left >= remote.left && local.right <= remote.right && local.bottom <= remote.bottom, 'local inset in the remote').to.be.true;
    // Too narrow for side by side, so no button to ask for it.
    expect(getComputedStyle(ctx.$('[part="layout-button"]')!).display).to.equal('none');
    const dialogRoot = ctx.$('care-dialog')!.shadowRoot!;
    const offScreen = [...ctx.root.querySelectorAll('*'), ...dialogRoot.querySelectorAll('*')]
      .filter((e) => {
        const box = e.getBoundingClientRect();
        return box.width > 0 && (box.left < -0.5 || box.right > 400.5);
      })
      .map((e) => e.getAttribute('part') ?? e.localName);
    expect(offScreen, 'elements reaching past the screen').to.deep.equal([]);
    expect(document.documentElement.scrollWidth).to.be.at.most(400);
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
    expect(mute.textContent!.trim()).to.equal('Unmute');
    expect(mute.classList.contains('active'), 'shown as on').to.be.true;
    expect(mute.hasAttribute('aria-pressed')).to.be.false;
    await waitUntil(() => patient.remoteMedia.audio === false, 'patient told of mute');
    const camera = $<HTMLButtonElement>('[part="camera-button"]')!;
    camera.click();
    await ctx.el.updateComplete;
    expect(camera.textContent!.trim()).to.equal('Turn camera on');
    expect(camera.classList.contains('active'), 'shown as off').to.be.true;
    expect(camera.hasAttribute('aria-pressed')).to.be.false;
    await waitUntil(() => patient.remoteMedia.video === false, 'patient told camera off');
    mute.click();
    await ctx.el.updateComplete;
    expect(mute.textContent!.trim()).to.equal('Mute');
    expect(mute.classList.contains('active')).to.be.false;
    patient.setMicrophoneEnabled(false);
    await waitUntil(() => $('.badge.remote-muted'), 'practitioner sees the patient muted');

    // m:ss, counting from when the patient joined (a busy machine may skip a second).
    await waitUntil(() => /^0:0[1-9]$/.test($('[part="timer"]')!.textContent!), 'timer running', { timeout: 8000 });
  });

  it('says the patient left, not that it is waiting for them, until they rejoin', async () => {
    const ctx = await setup();
    const { $, server } = ctx;
    await start(ctx);
    const visitId = server.video.visits[0]!.visit.id;
    const patient = await patientJoins(server, visitId);
    await waitUntil(() => $('[part="status"]')!.textContent!.includes('Aroha Ngata joined'), 'patient joined', { timeout: 8000 });

    patient.leave();
    const left = 'Aroha Ngata left the call. The link still works if they rejoin.';
    await waitUntil(() => $('[part="status"]')!.textContent!.trim() === left, 'told the patient left', { timeout: 8000 });
    expect($('[part="stage"] .overlay')!.textContent!.trim(), 'on the patient’s tile too').to.equal(left);
    expect($('[part="stage"]')!.textContent).not.to.contain('Waiting for');

    await patientJoins(server, visitId);
    await waitUntil(() => $('[part="status"]')!.textContent!.includes('Aroha Ngata joined'), 'joined again', { timeout: 8000 });
    await waitUntil(() => !$('[part="stage"] .overlay'), 'overlay gone');
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

  it('copies the link the old way when the Clipboard API is refused, or says to copy it by hand', async () => {
    const ctx = await setup();
    await start(ctx);
    const input = ctx.$<HTMLInputElement>('[part="join-link-input"]')!;
    const commands: string[] = [];
    let copyWorks = true;
    const clipboard = Object.getOwnPropertyDescriptor(Navigator.prototype, 'clipboard')!;
    Object.defineProperty(navigator, 'clipboard', {
      configurable: true,
      value: { writeText: () => Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError')) },
    });
    // Headless Chromium answers execCommand('copy') from a script's click with false; a person's click copies.
    Object.defineProperty(document, 'execCommand', {
      configurable: true,
      value: (command: string) => {
        // What would be copied is what is selected when the command runs.
        commands.push(`${command}:${input.value.slice(input.selectionStart!, input.selectionEnd!)}`);
        return copyWorks;
      },
    });
    try {
      const url = ctx.server.video.visits[0]!.visit.joinUrl;
      ctx.$<HTMLButtonElement>('[part="copy-button"]')!.click();
      await waitUntil(() => ctx.$('.link-status')?.textContent?.includes('Link copied'), 'copied the old way');
      expect(commands).to.deep.equal([`copy:${url}`]);

      copyWorks = false;
      ctx.$<HTMLButtonElement>('[part="copy-button"]')!.click();
      await waitUntil(() => ctx.$('[part="join-link"] [role="alert"]'), 'told to copy by hand');
      expect(ctx.$('[part="join-link"] [role="alert"]')!.textContent).to.contain('The link could not be copied. Select it and copy it yourself.');
      expect(ctx.root.activeElement, 'the link is focused').to.equal(input);
      expect(input.value.slice(input.selectionStart!, input.selectionEnd!), 'and selected, ready to copy').to.equal(url);
    } finally {
      delete (document as { execCommand?: unknown }).execCommand;
      delete (navigator as { clipboard?: unknown }).clipboard;
      Object.defineProperty(Navigator.prototype, 'clipboard', clipboard);
    }
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
    // Nobody joined.
    expect(event.entry?.status).to.equal('no-answer');
    expect(event.entry?.channel).to.equal('video');
    await waitUntil(() => !dialog.open, 'dialog closed');
    expect(ctx.server.video.visits[0]!.ended).to.be.true;
  });

  it('asks before the page is left during a visit, and ends the visit for the patient when it is', async () => {
    const ctx = await setup();
    const unload = () => {
      const event = new Event('beforeunload', { cancelable: true });
      window.dispatchEvent(event);
      return event.defaultPrevented;
    };
    expect(unload(), 'no visit, no question').to.be.false;
    await start(ctx);
    expect(unload(), 'the browser asks before leaving a visit').to.be.true;
    const endPath = `/api/v1/video-visits/${ctx.server.video.visits[0]!.visit.id}/end`;
    expect(ctx.server.requestsTo(endPath)).to.have.length(0);
    window.dispatchEvent(new Event('pagehide'));
    await waitUntil(() => ctx.server.requestsTo(endPath).length === 1, 'the visit is ended as the page goes');
    expect(ctx.server.requestsTo(endPath)[0]!.keepalive, 'a request that outlives the page').to.be.true;
    ctx.$<HTMLButtonElement>('[part="end-button"]')!.click();
    await waitUntil(() => ctx.$('[part="summary"]'), 'ended');
    expect(unload(), 'nothing to ask once the visit is over').to.be.false;
    window.dispatchEvent(new Event('pagehide'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ctx.server.requestsTo(endPath), 'only End call ended it again').to.have.length(2);
  });

  it('End call shows the logged duration and Done closes', async () => {
    const ctx = await setup();
    await start(ctx);
    await patientJoins(ctx.server, ctx.server.video.visits[0]!.visit.id);
    await waitUntil(() => ctx.$('[part="status"]')!.textContent!.includes('Aroha Ngata joined'), 'patient joined', { timeout: 8000 });
    ctx.$<HTMLButtonElement>('[part="end-button"]')!.click();
    await waitUntil(() => ctx.$('[part="summary"]'), 'summary');
    expect(ctx.$('[part="summary"]')!.textContent).to.contain('Video call ended');
    expect(ctx.$('[part="summary"] .duration')!.textContent).to.match(/^\d+:\d\d$/);
    await waitUntil(() => deepActiveElement()?.textContent?.trim() === 'Done', 'focus on Done');
    const session = ctx.el.shadowRoot!.querySelector('video[part="local-video"]');
    expect(session, 'the stage is gone').to.be.null;
  });

  it('says the patient did not join, with no duration, when the call ends before they do', async () => {
    const ctx = await setup();
    await start(ctx);
    const ended = oneEvent(ctx.el, 'care-video-ended') as unknown as Promise<CareVideoEndedEvent>;
    ctx.$<HTMLButtonElement>('[part="end-button"]')!.click();
    expect((await ended).entry?.status).to.equal('no-answer');
    await waitUntil(() => ctx.$('[part="summary"]'), 'summary');
    const summary = ctx.$('[part="summary"]')!;
    expect(summary.textContent).to.contain('Video call ended');
    expect(summary.textContent).to.contain('Aroha Ngata did not join.');
    expect(summary.textContent).to.contain('The visit is in the correspondence history as No answer.');
    expect(summary.querySelector('.duration'), 'no 0:00').to.be.null;
    await waitUntil(() => deepActiveElement()?.textContent?.trim() === 'Done', 'focus on Done');
    await expect(ctx.el).to.be.accessible();
  });

  it('shows a visit past the hour as h:mm:ss, like the call history', async () => {
    const ctx = await setup();
    await start(ctx);
    // The fake server times the visit from its entry's creation: make it 65 minutes ago, with the patient in it.
    const visit = ctx.server.video.visits[0]!;
    visit.entry = { ...visit.entry, createdAt: new Date(Date.now() - 65 * 60_000).toISOString() };
    visit.patientJoined = true;
    ctx.$<HTMLButtonElement>('[part="end-button"]')!.click();
    await waitUntil(() => ctx.$('[part="summary"] .duration'), 'summary');
    expect(ctx.$('[part="summary"] .duration')!.textContent).to.equal('1:05:00');
  });

  it('goes ahead by voice when the camera is not available: says so, the patient is seen and told "camera off", and the screen can still be shared', async () => {
    const media = navigator.mediaDevices;
    const { getUserMedia, getDisplayMedia } = media;
    // A desk without a working camera (another app holds it); the microphone works.
    media.getUserMedia = (constraints) => (constraints?.video ? Promise.reject(new DOMException('busy', 'NotReadableError')) : getUserMedia.call(media, constraints));
    // The screen the practitioner picks: a canvas that keeps drawing, wide (the fake camera is 4:3).
    const canvas = Object.assign(document.createElement('canvas'), { width: 320, height: 180 });
    const paint = setInterval(() => {
      const g = canvas.getContext('2d')!;
      g.fillStyle = `hsl(${Date.now() % 360} 60% 50%)`;
      g.fillRect(0, 0, 320, 180);
    }, 50);
    media.getDisplayMedia = () => Promise.resolve(canvas.captureStream(15));
    try {
      const ctx = await setup();
      const { $ } = ctx;
      const event = await start(ctx);
      // The patient, in this same page, has a camera.
      media.getUserMedia = getUserMedia;
      const notice = $('[part="voice-only"]')!;
      expect(notice.textContent).to.contain('Your camera is not available, so Aroha Ngata will hear you but not see you. You can still share your screen.');
      expect(notice.getAttribute('role')).to.equal('status');
      expect($('[part="error"]'), 'not an error: the visit goes on').to.be.null;
      const camera = $<HTMLButtonElement>('[part="camera-button"]')!;
      expect(camera.disabled, 'no camera to turn on').to.be.true;
      expect(camera.textContent!.trim()).to.equal('No camera');
      expect([...$<HTMLSelectElement>('[part="camera-select"]')!.options].map((o) => o.textContent!.trim())).to.deep.equal(['Not available']);
      expect($('.local-tile .local-off')!.textContent!.trim(), 'the own tile says why it is dark').to.equal('No camera');

      const patient = await patientJoins(ctx.server, event.visitId);
      // The practitioner still sees the patient: the offer carried a video channel without a camera behind it.
      await waitUntil(() => videoPlaying($<HTMLVideoElement>('[part="remote-video"]')!), 'the patient seen', { timeout: 10_000 });
      await waitUntil(() => patient.remoteMedia.video === false, 'the patient told: no camera', { timeout: 5000 });

      $<HTMLButtonElement>('[part="screen-share-button"]')!.click();
      await waitUntil(() => patient.remoteMedia.video === true, 'the patient told: a picture', { timeout: 5000 });
      const seen = document.createElement('video');
      Object.assign(seen, { muted: true, autoplay: true, playsInline: true, srcObject: patient.remoteStream });
      document.body.append(seen);
      try {
        // 16:9 at whatever size WebRTC chose to send: the screen, not a camera.
        await waitUntil(() => videoPlaying(seen) && Math.abs(seen.videoWidth / seen.videoHeight - 16 / 9) < 0.05, 'the patient sees the shared screen', { timeout: 10_000 });
        expect($('.local-tile .local-off'), 'the own tile shows the screen').to.be.null;
        const screen = ctx.el.shadowRoot!.querySelector<HTMLVideoElement>('[part="local-video"]')!.srcObject as MediaStream;
        const shared = screen.getVideoTracks()[0]!;

        $<HTMLButtonElement>('[part="screen-share-button"]')!.click();
        await waitUntil(() => patient.remoteMedia.video === false, 'the patient told: camera off again', { timeout: 5000 });
        expect(shared.readyState, 'the screen is no longer captured').to.equal('ended');
        expect(screen.getVideoTracks(), 'nothing in place of the camera').to.have.length(0);
        await waitUntil(() => $('.local-tile .local-off')?.textContent?.trim() === 'No camera', 'the own tile dark again');
      } finally {
        seen.remove();
      }
    } finally {
      media.getUserMedia = getUserMedia;
      media.getDisplayMedia = getDisplayMedia;
      clearInterval(paint);
    }
  });

  it('sees a patient who rejoins as they are now, not as they left (camera off and muted before)', async () => {
    const ctx = await setup();
    const { $ } = ctx;
    const event = await start(ctx);
    const first = await patientJoins(ctx.server, event.visitId);
    await waitUntil(() => first.state === 'connected', 'the patient in', { timeout: 10_000 });
    first.setCameraEnabled(false);
    first.setMicrophoneEnabled(false);
    await waitUntil(() => $('[part="stage"]')!.textContent!.includes('Camera off') && !!$('.remote-muted'), 'camera off and muted shown');
    first.leave();
    await waitUntil(() => $('[part="status"]')!.textContent!.includes('left the call'), 'the patient left');
    const again = await patientJoins(ctx.server, event.visitId);
    await waitUntil(() => again.state === 'connected', 'the patient back', { timeout: 10_000 });
    await waitUntil(() => videoPlaying($<HTMLVideoElement>('[part="remote-video"]')!), 'the patient seen again', { timeout: 10_000 });
    // Long enough for a stale "camera off" or "muted" to have been put back by the patient's hello.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect($('[part="stage"]')!.textContent, 'no stale camera off').not.to.include('Camera off');
    expect($('.remote-muted'), 'no stale muted badge').to.be.null;
  });

  it('keeps a screen share going when the camera is turned off meanwhile, and brings the camera back off', async () => {
    const media = navigator.mediaDevices;
    const getDisplayMedia = media.getDisplayMedia;
    const canvas = Object.assign(document.createElement('canvas'), { width: 320, height: 180 });
    canvas.getContext('2d')!.fillRect(0, 0, 320, 180);
    media.getDisplayMedia = () => Promise.resolve(canvas.captureStream(5));
    try {
      const ctx = await setup();
      const { $ } = ctx;
      const event = await start(ctx);
      const patient = await patientJoins(ctx.server, event.visitId);
      await waitUntil(() => patient.state === 'connected', 'the patient in', { timeout: 10_000 });
      $<HTMLButtonElement>('[part="screen-share-button"]')!.click();
      await waitUntil(() => $('[part="screen-share-button"]')!.textContent!.includes('Stop sharing'), 'sharing');
      $<HTMLButtonElement>('[part="camera-button"]')!.click();
      await ctx.el.updateComplete;
      expect($('[part="camera-button"]')!.textContent!.trim()).to.equal('Turn camera on');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(patient.remoteMedia.video, 'the patient still sees the screen').to.be.true;
      const local = $('.local-tile')!;
      expect(local.classList.contains('off'), 'the own screen preview not dimmed').to.be.false;
      expect(local.querySelector('.local-off'), 'no "camera off" over the shared screen').to.be.null;
      expect((local.querySelector('video')!.srcObject as MediaStream).getVideoTracks()[0]!.enabled, 'the screen still sent').to.be.true;

      $<HTMLButtonElement>('[part="screen-share-button"]')!.click();
      await waitUntil(() => patient.remoteMedia.video === false, 'the camera back, off as set', { timeout: 5000 });
      await waitUntil(() => $('.local-tile .local-off')?.textContent?.trim() === 'Camera off', 'the own tile says camera off');
    } finally {
      media.getDisplayMedia = getDisplayMedia;
    }
  });

  it('says why a screen could not be shared, in words about the screen; cancelling the picker says nothing', async () => {
    const media = navigator.mediaDevices;
    const getDisplayMedia = media.getDisplayMedia;
    try {
      const ctx = await setup();
      const { $ } = ctx;
      await start(ctx);
      const share = async (error: DOMException) => {
        media.getDisplayMedia = () => Promise.reject(error);
        $<HTMLButtonElement>('[part="screen-share-button"]')!.click();
        await new Promise((resolve) => setTimeout(resolve, 50));
        await ctx.el.updateComplete;
        return [...ctx.el.shadowRoot!.querySelectorAll('[part="error"]')].map((e) => e.textContent!.trim()).join(' ');
      };
      expect(await share(new DOMException('Could not start video source', 'NotReadableError'))).to.equal(
        'Your screen could not be shared. Try again, or choose another window or tab.',
      );
      expect(await share(new DOMException('Permission denied by system', 'NotAllowedError'))).to.equal(
        'Your computer does not let this browser share the screen. Allow it in the system settings (screen recording), then try again.',
      );
      expect(await share(new DOMException('Permission denied', 'NotAllowedError')), 'the practitioner chose not to').to.equal('');
    } finally {
      media.getDisplayMedia = getDisplayMedia;
    }
  });

  it('does not offer screen sharing to a practitioner without a camera where the browser cannot share (a tablet)', async () => {
    const media = navigator.mediaDevices;
    const { getUserMedia, getDisplayMedia } = media;
    media.getUserMedia = (constraints) => (constraints?.video ? Promise.reject(new DOMException('none', 'NotFoundError')) : getUserMedia.call(media, constraints));
    (media as { getDisplayMedia?: unknown }).getDisplayMedia = undefined;
    try {
      const ctx = await setup();
      await start(ctx);
      expect(ctx.$('[part="voice-only"]')!.textContent!.trim()).to.equal('Your camera is not available, so Aroha Ngata will hear you but not see you.');
      expect(ctx.$('[part="screen-share-button"]')).to.be.null;
    } finally {
      media.getUserMedia = getUserMedia;
      media.getDisplayMedia = getDisplayMedia;
    }
  });

  it('moves focus to the call controls once the call starts, not to the page', async () => {
    const ctx = await setup();
    ctx.$<HTMLButtonElement>('[part="start-button"]')!.focus();
    await start(ctx);
    await waitUntil(() => deepActiveElement() === ctx.$('[part="mute-button"]'), 'focus on Mute');
  });

  it('keeps a pressed toggle readable under the pointer (Unmute stays light with dark text)', async () => {
    const ctx = await setup();
    await start(ctx);
    const mute = ctx.$<HTMLButtonElement>('[part="mute-button"]')!;
    mute.click();
    await ctx.el.updateComplete;
    const box = mute.getBoundingClientRect();
    await sendMouse({ type: 'move', position: [Math.round(box.x + box.width / 2), Math.round(box.y + box.height / 2)] });
    expect(mute.matches(':hover'), 'under the pointer').to.be.true;
    const style = getComputedStyle(mute);
    expect(style.backgroundColor, 'the pressed look, not the hover one').to.equal('rgb(245, 247, 250)');
    expect(style.color).to.equal('rgb(11, 15, 20)');
    await sendMouse({ type: 'move', position: [0, 0] });
  });

  it('names the microphone when it alone is missing, and a microphone that fails to switch mid-call', async () => {
    const media = navigator.mediaDevices;
    const { getUserMedia } = media;
    // A camera, but no microphone: any request for audio finds none.
    media.getUserMedia = (constraints) => (constraints?.audio ? Promise.reject(new DOMException('none', 'NotFoundError')) : getUserMedia.call(media, constraints));
    try {
      const ctx = await setup();
      ctx.$<HTMLButtonElement>('[part="start-button"]')!.click();
      await waitUntil(() => ctx.$('[part="error"]'), 'error shown');
      expect(ctx.$('[part="error"]')!.textContent!.trim()).to.equal('No microphone was found. Connect one, then try again.');
      expect(ctx.server.video.visits, 'no visit created').to.have.length(0);

      // In a call, another microphone that is busy elsewhere: the message names the microphone, not the camera.
      media.getUserMedia = getUserMedia;
      await start(ctx);
      media.getUserMedia = (constraints) => (constraints?.audio ? Promise.reject(new DOMException('busy', 'NotReadableError')) : getUserMedia.call(media, constraints));
      const select = ctx.$<HTMLSelectElement>('[part="microphone-select"]')!;
      await waitUntil(() => select.options.length > 0 && select.options[0]!.value, 'microphones listed');
      select.value = select.options[select.options.length - 1]!.value;
      select.dispatchEvent(new Event('change'));
      await waitUntil(() => ctx.$('[part="error"]'), 'switch error shown');
      expect(ctx.$('[part="error"]')!.textContent!.trim()).to.equal('The microphone is being used by another app. Close it, then try again.');
    } finally {
      media.getUserMedia = getUserMedia;
    }
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
