import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { setViewport } from '@web/test-runner-commands';
import { getLocalMedia, type VideoSession } from '@carecomms/sdk/video';
import type { CareVideoEndedEvent, CareVideoStartedEvent } from '../video-events.js';
import { define } from '../lazy.js';
import { setCareLocale } from '../localization.js';
import { FakeServer } from '../test-fixtures/fake-server.js';
import { CareVideoRoom } from './video-room.js';

define('care-video-room', CareVideoRoom);

const practitioners: VideoSession[] = [];
afterEach(async () => {
  for (const session of practitioners.splice(0)) session.leave();
  document.querySelectorAll('care-video-room').forEach((el) => el.remove());
  await setViewport({ width: 800, height: 600 });
});

/** The join page's status, as the server answers it: 200, or 410 once the visit is over. */
const realPage = (ended: boolean) => new Response(null, { status: ended ? 410 : 200 });

/** A visit started by the (fake) practitioner, and the patient's room for its link. */
async function setup(options: { joinFailure?: number; page?: (ended: boolean) => Response } = {}) {
  const server = new FakeServer();
  const client = server.client();
  const visit = await client.videoVisits.start('pat-1');
  server.video.joinFailure = options.joinFailure ?? null;
  const token = visit.joinUrl.split('/join/')[1]!;
  /** The room's looks at its link (`HEAD /join/<token>`), by the phase it was in. */
  const linkChecks: string[] = [];
  const answerPage = options.page ?? realPage;
  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    if (url.pathname === `/join/${token}` && init.method === 'HEAD') {
      // The screen the patient is on (the room asks as it changes screens).
      await el.updateComplete;
      linkChecks.push(el.shadowRoot!.querySelector('[part="notice"] h2')?.textContent ?? (el.shadowRoot!.querySelector('[part="join-button"]') ? 'check' : 'call'));
      return answerPage(server.video.visits[0]!.ended);
    }
    return server.fetch(input, init);
  };
  const el: CareVideoRoom = await fixture<CareVideoRoom>(html`<care-video-room base-url="https://carecomms.test" join-token=${token} .fetch=${fetch}></care-video-room>`);
  const $ = <T extends Element = HTMLElement>(selector: string) => el.shadowRoot!.querySelector<T>(selector);
  const byText = (text: string) => [...el.shadowRoot!.querySelectorAll('button')].find((b) => b.textContent!.includes(text));
  /** The practitioner joins the same visit. */
  const practitionerJoins = async () => {
    const session = await client.videoVisits.session(visit, { localStream: await getLocalMedia() });
    practitioners.push(session);
    await session.connect();
    return session;
  };
  /** Joins, waits for the call, then leaves: on the "You left the visit" screen. */
  const joinAndLeave = async () => {
    await joinReady(ctx);
    ctx.$<HTMLButtonElement>('[part="join-button"]')!.click();
    await waitUntil(() => ctx.$('[part="status"]')?.textContent?.includes('Waiting for Dr Amelia Lee'), 'waiting', { timeout: 8000 });
    ctx.$<HTMLButtonElement>('[part="end-button"]')!.click();
    await waitUntil(() => ctx.$('[part="notice"]')?.textContent?.includes('You left the visit'), 'left');
  };
  const ctx = { server, client, visit, el, $, byText, practitionerJoins, linkChecks, joinAndLeave };
  return ctx;
}

const playing = (video: HTMLVideoElement | null) => !!video && video.videoWidth > 0 && !video.paused;

/**
 * Watches a video for `ms`: how often it started loading again (`emptied`,
 * `loadstart`: what giving it its stream again does) and how far it played.
 */
async function watchVideo(video: HTMLVideoElement, ms: number) {
  let reloads = 0;
  const count = () => reloads++;
  video.addEventListener('emptied', count);
  video.addEventListener('loadstart', count);
  const from = video.currentTime;
  await new Promise((resolve) => setTimeout(resolve, ms));
  video.removeEventListener('emptied', count);
  video.removeEventListener('loadstart', count);
  return { reloads, played: video.currentTime - from };
}

/** getUserMedia refusing the camera (with a DOMException of `name`) while the microphone works, for as long as `run` takes. */
async function withoutCamera<T>(name: string, run: () => Promise<T>): Promise<T> {
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (constraints) => (constraints?.video ? Promise.reject(new DOMException('camera', name)) : original(constraints));
  try {
    return await run();
  } finally {
    navigator.mediaDevices.getUserMedia = original;
  }
}

/** The text of a picker's options. */
const options = (select: HTMLSelectElement | null) => [...(select?.options ?? [])].map((o) => o.textContent!.trim());
const joinReady = (ctx: Awaited<ReturnType<typeof setup>>) =>
  waitUntil(() => ctx.$<HTMLButtonElement>('[part="join-button"]') && !ctx.$<HTMLButtonElement>('[part="join-button"]')!.disabled, 'camera ready', { timeout: 8000 });

describe('care-video-room', function () {
  // Real camera, microphone and WebRTC (fake devices): slower than the other elements' tests.
  this.timeout(90_000);

  it('checks the camera and microphone before joining: preview, level meter, device pickers', async () => {
    const ctx = await setup();
    await joinReady(ctx);
    await waitUntil(() => playing(ctx.$<HTMLVideoElement>('[part="preview"]')), 'preview playing', { timeout: 8000 });
    const meter = ctx.$('[part="meter"]')!;
    expect(meter.getAttribute('role')).to.equal('meter');
    await waitUntil(() => Number(meter.getAttribute('aria-valuenow')) > 0, 'the fake microphone is heard', { timeout: 8000 });
    const cameras = ctx.$<HTMLSelectElement>('[part="camera-select"]')!;
    await waitUntil(() => cameras.options.length > 0 && !cameras.disabled, 'cameras listed');
    expect(ctx.$<HTMLSelectElement>('[part="microphone-select"]')!.options.length).to.be.greaterThan(0);
    await expect(ctx.el).to.be.accessible({ ignoredRules: ['video-caption'] });
  });

  it('keeps the camera preview playing while the level meter moves (its stream is not given again on each render)', async () => {
    const ctx = await setup();
    await joinReady(ctx);
    const preview = ctx.$<HTMLVideoElement>('[part="preview"]')!;
    await waitUntil(() => playing(preview), 'preview playing', { timeout: 8000 });
    const meter = ctx.$('[part="meter"]')!;
    await waitUntil(() => Number(meter.getAttribute('aria-valuenow')) > 0, 'the meter is running', { timeout: 8000 });
    const { reloads, played } = await watchVideo(preview, 1500);
    expect(reloads, 'emptied / loadstart while the meter ran').to.be.at.most(1);
    expect(played, 'seconds of camera shown').to.be.greaterThan(0.5);
  });

  it('joins, waits for the clinician, then shows them; Leave offers to rejoin', async () => {
    const ctx = await setup();
    await joinReady(ctx);
    const started = oneEvent(ctx.el, 'care-video-started');
    ctx.$<HTMLButtonElement>('[part="join-button"]')!.click();
    expect(((await started) as unknown as CareVideoStartedEvent).visitId).to.equal(ctx.visit.id);
    await waitUntil(() => ctx.$('[part="status"]')?.textContent?.includes('Waiting for Dr Amelia Lee'), 'waiting', { timeout: 8000 });
    expect(ctx.$('[part="header"]')!.textContent).to.contain('With Dr Amelia Lee, Harbourside Medical');

    const practitioner = await ctx.practitionerJoins();
    await waitUntil(() => ctx.$('[part="status"]')?.textContent?.includes('Dr Amelia Lee joined'), 'clinician joined', { timeout: 10_000 });
    await waitUntil(() => playing(ctx.$<HTMLVideoElement>('[part="remote-video"]')), 'clinician video playing', { timeout: 10_000 });
    await waitUntil(() => practitioner.state === 'connected');

    const mute = ctx.$<HTMLButtonElement>('[part="mute-button"]')!;
    const camera = ctx.$<HTMLButtonElement>('[part="camera-button"]')!;
    expect(mute.textContent!.trim()).to.equal('Mute');
    expect(camera.textContent!.trim()).to.equal('Turn camera off');
    mute.click();
    await ctx.el.updateComplete;
    // The label says what pressing does; aria-pressed as well would contradict it.
    expect(mute.textContent!.trim()).to.equal('Unmute');
    expect(mute.classList.contains('active'), 'shown as on').to.be.true;
    expect(mute.hasAttribute('aria-pressed')).to.be.false;
    await waitUntil(() => practitioner.remoteMedia.audio === false, 'clinician told');
    camera.click();
    await ctx.el.updateComplete;
    expect(camera.textContent!.trim()).to.equal('Turn camera on');
    expect(camera.hasAttribute('aria-pressed')).to.be.false;
    await waitUntil(() => practitioner.remoteMedia.video === false, 'clinician told camera off');
    expect(ctx.$('[part="screen-share-button"]'), 'no screen sharing for patients').to.be.null;
    expect(ctx.$('[part="layout-button"]'), 'the patient keeps the clinician large').to.be.null;

    const ended = oneEvent(ctx.el, 'care-video-ended') as unknown as Promise<CareVideoEndedEvent>;
    ctx.$<HTMLButtonElement>('[part="end-button"]')!.click();
    expect((await ended).reason).to.equal('left');
    await waitUntil(() => ctx.$('[part="notice"]')?.textContent?.includes('You left the visit'), 'left');
    ctx.byText('Rejoin')!.click();
    await joinReady(ctx);
  });

  it('keeps both videos playing through the call timer\'s ticks', async () => {
    const ctx = await setup();
    await joinReady(ctx);
    ctx.$<HTMLButtonElement>('[part="join-button"]')!.click();
    await waitUntil(() => ctx.$('[part="status"]'), 'live', { timeout: 8000 });
    await ctx.practitionerJoins();
    const remote = ctx.$<HTMLVideoElement>('[part="remote-video"]')!;
    const local = ctx.$<HTMLVideoElement>('[part="local-video"]')!;
    await waitUntil(() => playing(remote) && playing(local) && ctx.$('[part="timer"]'), 'both playing, timer on', { timeout: 10_000 });
    // The timer re-renders once a second: two ticks at least.
    const [them, me] = await Promise.all([watchVideo(remote, 2500), watchVideo(local, 2500)]);
    expect(them.reloads, 'clinician video reloads').to.be.at.most(1);
    expect(me.reloads, 'own video reloads').to.be.at.most(1);
    expect(them.played, 'seconds of the clinician shown').to.be.greaterThan(1);
    expect(me.played, 'seconds of own camera shown').to.be.greaterThan(1);
  });

  it('says so when the clinician ends the visit', async () => {
    const ctx = await setup();
    await joinReady(ctx);
    ctx.$<HTMLButtonElement>('[part="join-button"]')!.click();
    await waitUntil(() => ctx.$('[part="status"]'), 'live', { timeout: 8000 });
    await ctx.practitionerJoins();
    await waitUntil(() => ctx.$('[part="status"]')?.textContent?.includes('joined'), 'clinician joined', { timeout: 10_000 });
    const ended = oneEvent(ctx.el, 'care-video-ended') as unknown as Promise<CareVideoEndedEvent>;
    await ctx.client.videoVisits.end(ctx.visit.id);
    expect((await ended).reason).to.equal('ended');
    await waitUntil(() => ctx.$('[part="notice"]')?.textContent?.includes('The visit has ended'), 'ended notice');
    expect(ctx.$('[part="notice"]')!.textContent).to.contain('Thank you');
  });

  /** The notice for a visit that ended without the clinician there: not thanked, told what to do. */
  const toldClinicianGone = async (ctx: Awaited<ReturnType<typeof setup>>) => {
    await waitUntil(() => ctx.$('[part="notice"]'), 'notice');
    const notice = ctx.$('[part="notice"]')!;
    expect(notice.textContent).to.contain('The visit has ended');
    expect(notice.textContent).to.contain('Your clinician is no longer in this visit. If you still need to see them, please contact the clinic.');
    expect(notice.textContent).not.to.contain('Thank you');
    expect(notice.getAttribute('role')).to.equal('alert');
  };

  it('does not thank a patient whose visit ended before the clinician ever came', async () => {
    const ctx = await setup();
    await joinReady(ctx);
    ctx.$<HTMLButtonElement>('[part="join-button"]')!.click();
    await waitUntil(() => ctx.$('[part="status"]')?.textContent?.includes('Waiting for Dr Amelia Lee'), 'waiting', { timeout: 8000 });
    const ended = oneEvent(ctx.el, 'care-video-ended') as unknown as Promise<CareVideoEndedEvent>;
    // As the server does for a clinician who closed the tab (practitioner-left) or ended it from elsewhere.
    await ctx.client.videoVisits.end(ctx.visit.id);
    expect((await ended).reason).to.equal('ended');
    await toldClinicianGone(ctx);
  });

  it('does not thank a patient left waiting by a clinician who went away, when the visit then ends', async () => {
    const ctx = await setup();
    await joinReady(ctx);
    ctx.$<HTMLButtonElement>('[part="join-button"]')!.click();
    await waitUntil(() => ctx.$('[part="status"]'), 'live', { timeout: 8000 });
    const practitioner = await ctx.practitionerJoins();
    await waitUntil(() => ctx.$('[part="status"]')?.textContent?.includes('joined'), 'clinician joined', { timeout: 10_000 });
    practitioner.leave();
    await waitUntil(() => ctx.$('[part="status"]')?.textContent?.includes('Waiting for Dr Amelia Lee'), 'waiting again', { timeout: 8000 });
    await new Promise((resolve) => setTimeout(resolve, 5500));
    await ctx.client.videoVisits.end(ctx.visit.id);
    await toldClinicianGone(ctx);
  });

  it('joins by voice when the camera is not available: says so kindly, and the clinician sees "camera off"', async () => {
    const ctx = await withoutCamera('NotReadableError', async () => {
      const ctx = await setup();
      await joinReady(ctx);
      return ctx;
    });
    const voiceOnly = ctx.$('[part="voice-only"]')!;
    expect(voiceOnly.textContent).to.contain('Your camera is not available, so you will join with voice only. Your clinician will hear you but not see you.');
    expect(voiceOnly.getAttribute('role')).to.equal('status');
    expect(ctx.$('[part="error"]') === null, 'not an error: Join works').to.be.true;
    expect(ctx.el.shadowRoot!.textContent).not.to.contain('will see and hear you');
    const meter = ctx.$('[part="meter"]')!;
    await waitUntil(() => Number(meter.getAttribute('aria-valuenow')) > 0, 'the microphone is heard', { timeout: 8000 });
    await expect(ctx.el).to.be.accessible({ ignoredRules: ['video-caption'] });

    ctx.$<HTMLButtonElement>('[part="join-button"]')!.click();
    await waitUntil(() => ctx.$('[part="status"]')?.textContent?.includes('Waiting for Dr Amelia Lee'), 'waiting', { timeout: 8000 });
    const practitioner = await ctx.practitionerJoins();
    await waitUntil(() => ctx.$('[part="status"]')?.textContent?.includes('Dr Amelia Lee joined'), 'clinician joined', { timeout: 10_000 });
    await waitUntil(() => playing(ctx.$<HTMLVideoElement>('[part="remote-video"]')), 'the patient sees the clinician', { timeout: 10_000 });
    await waitUntil(() => practitioner.state === 'connected' && !!practitioner.remoteStream?.getAudioTracks().length, 'the clinician hears the patient', { timeout: 10_000 });
    // What the clinician's stage shows "Camera off" from, rather than an empty picture.
    await waitUntil(() => practitioner.remoteMedia.video === false, 'the clinician told: no camera');
    expect(practitioner.remoteStream!.getVideoTracks()).to.have.length(0);

    const camera = ctx.$<HTMLButtonElement>('[part="camera-button"]')!;
    expect(camera.disabled, 'no camera to turn on').to.be.true;
    expect(camera.textContent!.trim()).to.equal('No camera');
    expect(options(ctx.$<HTMLSelectElement>('#live-camera'))).to.deep.equal(['Not available']);
    expect(ctx.$<HTMLButtonElement>('[part="mute-button"]')!.disabled).to.be.false;
  });

  it('says "Access blocked" in the camera picker when only the camera is refused, and lists the microphones', async () => {
    const ctx = await withoutCamera('NotAllowedError', async () => {
      const ctx = await setup();
      await joinReady(ctx);
      return ctx;
    });
    expect(ctx.$('[part="voice-only"]')!.textContent).to.contain('voice only');
    expect(options(ctx.$<HTMLSelectElement>('[part="camera-select"]'))).to.deep.equal(['Access blocked']);
    const microphones = ctx.$<HTMLSelectElement>('[part="microphone-select"]')!;
    await waitUntil(() => microphones.options.length > 0 && !microphones.disabled, 'microphones listed');
    expect(options(microphones)).not.to.include('Access blocked');
  });

  /** The notice for a link whose visit is over, with nothing left to press and the camera released. */
  const toldVisitEnded = async (ctx: Awaited<ReturnType<typeof setup>>, timeout = 5000) => {
    await waitUntil(() => ctx.$('[part="notice"]')?.textContent?.includes('This video visit has ended'), 'told the visit ended', { timeout });
    expect(ctx.$('[part="notice"]')!.getAttribute('role')).to.equal('alert');
    expect(ctx.$('[part="join-button"]'), 'no Join').to.be.null;
    expect(ctx.byText('Rejoin'), 'no Rejoin').to.be.undefined;
    expect(ctx.$('[part="preview"]'), 'camera released').to.be.null;
  };

  it('tells a patient who left, on the device check again, that the clinician ended the visit, without their doing anything', async () => {
    const ctx = await setup();
    await ctx.joinAndLeave();
    ctx.byText('Rejoin')!.click();
    await joinReady(ctx);
    await ctx.client.videoVisits.end(ctx.visit.id);
    // The room looks at its link every 15 seconds off the call.
    await toldVisitEnded(ctx, 20_000);
    expect(ctx.linkChecks.at(-1)).to.equal('check');
    expect(ctx.linkChecks, 'never during the call').not.to.include('call');
  });

  it('tells a patient on the Rejoin screen that the visit ended, and looks again as soon as the page is back in front', async () => {
    const ctx = await setup();
    await ctx.joinAndLeave();
    await waitUntil(() => ctx.linkChecks.includes('You left the visit'), 'the link looked at on leaving');
    expect(ctx.byText('Rejoin'), 'still open: Rejoin offered').to.exist;
    await ctx.client.videoVisits.end(ctx.visit.id);
    document.dispatchEvent(new Event('visibilitychange'));
    await toldVisitEnded(ctx);
  });

  it('looks at the link before offering Join again', async () => {
    const ctx = await setup();
    await ctx.joinAndLeave();
    await ctx.client.videoVisits.end(ctx.visit.id);
    ctx.byText('Rejoin')!.click();
    await toldVisitEnded(ctx);
  });

  it('keeps offering Join when the link cannot be looked at, and then Join says the visit ended', async () => {
    for (const status of [404, 429, 503]) {
      const ctx = await setup({ page: () => new Response(null, { status }) });
      await ctx.joinAndLeave();
      await ctx.client.videoVisits.end(ctx.visit.id);
      ctx.byText('Rejoin')!.click();
      await joinReady(ctx);
      document.dispatchEvent(new Event('visibilitychange'));
      await waitUntil(() => ctx.linkChecks.filter((c) => c === 'check').length >= 1, 'looked at');
      await ctx.el.updateComplete;
      expect(ctx.$('[part="notice"]'), `page answered ${status}`).to.be.null;
      ctx.$<HTMLButtonElement>('[part="join-button"]')!.click();
      await toldVisitEnded(ctx);
      ctx.el.remove();
    }
  });

  for (const [status, text] of [
    [404, 'This link is not recognised'],
    [410, 'This video visit has ended'],
  ] as const) {
    it(`explains a ${status} link clearly`, async () => {
      const ctx = await setup({ joinFailure: status });
      await joinReady(ctx);
      ctx.$<HTMLButtonElement>('[part="join-button"]')!.click();
      await waitUntil(() => ctx.$('[part="notice"]'), 'notice');
      expect(ctx.$('[part="notice"]')!.textContent).to.contain(text);
      expect(ctx.$('[part="notice"]')!.getAttribute('role')).to.equal('alert');
      expect(ctx.$('[part="preview"]'), 'camera released').to.be.null;
    });
  }

  it('asks to wait when joining is rate-limited', async () => {
    const ctx = await setup({ joinFailure: 429 });
    await joinReady(ctx);
    ctx.$<HTMLButtonElement>('[part="join-button"]')!.click();
    await waitUntil(() => ctx.$('[part="error"]'), 'error');
    expect(ctx.$('[part="error"]')!.textContent).to.contain('Wait 42 seconds');
    expect(ctx.$<HTMLButtonElement>('[part="join-button"]')!.disabled).to.be.false;
  });

  it('names the microphone when it alone is missing', async () => {
    const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    // A camera, but no microphone: any request for audio finds none.
    navigator.mediaDevices.getUserMedia = (constraints) =>
      constraints?.audio ? Promise.reject(new DOMException('none', 'NotFoundError')) : original(constraints);
    try {
      const ctx = await setup();
      await waitUntil(() => ctx.$('[part="error"]'), 'error', { timeout: 8000 });
      expect(ctx.$('[part="error"] p')!.textContent!.trim()).to.equal('No microphone was found. Connect one, then try again.');
      expect(ctx.$<HTMLButtonElement>('[part="join-button"]')!.disabled).to.be.true;
    } finally {
      navigator.mediaDevices.getUserMedia = original;
    }
  });

  it('explains a blocked camera and tries again on request', async () => {
    const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    let refuse = true;
    navigator.mediaDevices.getUserMedia = (constraints) =>
      refuse ? Promise.reject(new DOMException('denied', 'NotAllowedError')) : original(constraints);
    try {
      const ctx = await setup();
      await waitUntil(() => ctx.$('[part="error"]'), 'error', { timeout: 8000 });
      expect(ctx.$('[part="error"]')!.textContent).to.contain('Camera and microphone are blocked');
      expect(ctx.$<HTMLButtonElement>('[part="join-button"]')!.disabled).to.be.true;
      // The microphone refused as well: no voice-only offer, and the pickers say blocked, not missing.
      expect(ctx.$('[part="voice-only"]') === null).to.be.true;
      expect(options(ctx.$<HTMLSelectElement>('[part="camera-select"]'))).to.deep.equal(['Access blocked']);
      expect(options(ctx.$<HTMLSelectElement>('[part="microphone-select"]'))).to.deep.equal(['Access blocked']);
      refuse = false;
      ctx.byText('Try again')!.click();
      await joinReady(ctx);
      expect(ctx.$('[part="error"]')).to.be.null;
    } finally {
      navigator.mediaDevices.getUserMedia = original;
    }
  });

  it('shows the camera preview across a small phone, leaving the meter in sight', async () => {
    await setViewport({ width: 320, height: 568 });
    const ctx = await setup();
    await joinReady(ctx);
    const frame = ctx.$('.preview-frame')!.getBoundingClientRect();
    const column = ctx.$('.check')!.getBoundingClientRect();
    expect(frame.width, 'as wide as the column, not shrunk to one side').to.be.closeTo(column.width, 1);
    expect(frame.height, 'at most 45 % of the screen').to.be.at.most(568 * 0.45 + 1);
    expect(ctx.$('[part="meter"]')!.getBoundingClientRect().bottom, 'the meter in sight').to.be.at.most(568);
  });

  it('keeps Join in sight on a small phone, without scrolling: 320×568 and 375×667', async () => {
    for (const [width, height] of [
      [320, 568],
      [375, 667],
    ] as const) {
      await setViewport({ width, height });
      const ctx = await setup();
      await joinReady(ctx);
      const join = ctx.$('[part="join-button"]')!.getBoundingClientRect();
      expect(join.bottom, `${width}×${height}: Join on screen`).to.be.at.most(height);
      ctx.el.remove();
    }
  });

  it('keeps the whole picture and the controls on screen during the call: upright, in Spanish, and held sideways', async () => {
    try {
    for (const [width, height, locale] of [
      [320, 568, 'en'],
      [375, 667, 'es'],
      [667, 375, 'en'],
      [844, 390, 'en'],
    ] as const) {
      await setViewport({ width, height });
      const ctx = await setup();
      ctx.el.locale = locale;
      await joinReady(ctx);
      await waitUntil(() => ctx.$('[part="join-button"]')!.textContent!.includes(locale === 'es' ? 'Unirse' : 'Join'), 'in the language asked for');
      // Scrolled down to Join first, as a patient on a small phone might.
      window.scrollTo(0, document.documentElement.scrollHeight);
      ctx.$<HTMLButtonElement>('[part="join-button"]')!.focus();
      ctx.$<HTMLButtonElement>('[part="join-button"]')!.click();
      await waitUntil(() => ctx.$('[part="controls"]'), 'live', { timeout: 8000 });
      await ctx.el.updateComplete;
      await new Promise(requestAnimationFrame);
      expect(ctx.el.shadowRoot!.activeElement === ctx.$('[part="mute-button"]'), 'focus on Mute, not lost with Join').to.be.true;
      const where = `${width}×${height} (${locale})`;
      const stage = ctx.$('[part="stage"]')!.getBoundingClientRect();
      const buttons = [...ctx.$('[part="controls"]')!.querySelectorAll('button')].filter((b) => b.offsetParent).map((b) => b.getBoundingClientRect());
      expect(ctx.$('[part="status"]')!.getBoundingClientRect().top, `${where}: the status line on screen`).to.be.at.least(0);
      expect(stage.top, `${where}: the picture's top on screen`).to.be.at.least(0);
      expect(Math.max(...buttons.map((b) => b.bottom)), `${where}: Leave and the other controls on screen`).to.be.at.most(height);
      expect(new Set(buttons.map((b) => Math.round(b.top))).size, `${where}: the controls in one row`).to.equal(1);
      ctx.$<HTMLButtonElement>('[part="end-button"]')!.click();
      ctx.el.remove();
      window.scrollTo(0, 0);
    }
    } finally {
      await setCareLocale('en');
    }
  });

  it('fits a phone held upright (375 px) without sideways scrolling', async () => {
    await setViewport({ width: 375, height: 740 });
    const ctx = await setup();
    await joinReady(ctx);
    ctx.$<HTMLButtonElement>('[part="join-button"]')!.click();
    await waitUntil(() => ctx.$('[part="controls"]'), 'live', { timeout: 8000 });
    expect(document.documentElement.scrollWidth).to.be.at.most(375);
    const controls = ctx.$('[part="controls"]')!.getBoundingClientRect();
    expect(controls.right).to.be.at.most(375);
    for (const button of ctx.$('[part="controls"]')!.querySelectorAll('button')) {
      expect(button.getBoundingClientRect().height, 'touch targets').to.be.at.least(44);
    }
  });
});
