import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { CareDialog } from '../dialog/dialog.js';
import type { CareCallEndedEvent, CareCallStartedEvent } from './call-events.js';
import { define } from '../lazy.js';
import { CarePatientPicker } from '../patient-picker/patient-picker.js';
import { FakeServer, type FakeServerOptions } from '../test-fixtures/fake-server.js';
import { animationsDone, deepActiveElement } from '../test-fixtures/helpers.js';
import { CareCallDialog } from './call-dialog.js';

define('care-dialog', CareDialog);
define('care-patient-picker', CarePatientPicker);
define('care-call-dialog', CareCallDialog);

async function setup(patientId = '', options: FakeServerOptions = {}) {
  const server = new FakeServer(options);
  const el = await fixture<CareCallDialog>(html`<care-call-dialog .client=${server.client()} patient-id=${patientId} open></care-call-dialog>`);
  const root = el.shadowRoot!;
  const picker = root.querySelector<CarePatientPicker>('care-patient-picker')!;
  const part = <T extends HTMLElement = HTMLButtonElement>(name: string) => root.querySelector<T>(`[part~="${name}"]`);
  const text = (name: string) => part(name)?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
  const pickerReady = () => waitUntil(() => picker.patient, 'patient loaded').then(() => el.updateComplete);
  /** Starts a call to the preselected patient and waits for its (fake) media session. */
  const startCall = async () => {
    await pickerReady();
    part('start-button')!.click();
    await waitUntil(() => server.calls.session && part('mute-button'), 'call view');
    return server.calls.session!;
  };
  const settle = () => el.updateComplete;
  return { server, el, root, picker, part, text, pickerReady, startCall, settle };
}

describe('care-call-dialog', () => {
  it('places and controls a call using only the keyboard', async () => {
    const { server, el, root, picker, part, text, settle } = await setup();
    await waitUntil(() => deepActiveElement() === picker.shadowRoot!.querySelector('input'), 'focus in the search box');
    await sendKeys({ type: 'aroha' });
    await waitUntil(() => picker.shadowRoot!.querySelectorAll('[role="option"]').length === 1);
    await sendKeys({ press: 'Enter' });
    await el.updateComplete;
    expect(picker.shadowRoot!.querySelector('[part="phone"]')!.textContent).to.equal('+61 491 570 006');
    expect(root.querySelector<HTMLSelectElement>('#microphone')!.value).to.equal('');
    await animationsDone();
    await expect(el).to.be.accessible();

    const started = oneEvent(el, 'care-call-started') as unknown as Promise<CareCallStartedEvent>;
    await sendKeys({ press: 'Tab' });
    expect(deepActiveElement()?.id).to.equal('microphone');
    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'Tab' });
    expect(deepActiveElement() === part('start-button'), 'focus on Start call').to.be.true;
    await sendKeys({ press: 'Enter' });
    const event = await started;
    expect(event.patient.id).to.equal('pat-1');
    expect(event.call.entry.channel).to.equal('voice');
    expect(event.call.entry.status).to.equal('initiated');
    expect(server.requestsTo('/api/v1/patients/pat-1/calls')).to.have.length(1);

    await waitUntil(() => part('mute-button'), 'call view');
    const session = server.calls.session!;
    expect(deepActiveElement() === part('mute-button'), 'focus moves to the call controls').to.be.true;
    expect(text('call')).to.contain('Aroha Ngata');
    expect(text('call')).to.contain('+61 491 570 006');
    expect(text('status')).to.equal('Connecting…');
    expect(part('timer')!.hidden).to.be.true;
    expect(part('hold-button')!.disabled, 'no hold before the patient answers').to.be.true;

    session.ring();
    await settle();
    expect(text('status')).to.equal('Ringing…');

    session.answer(65);
    await settle();
    expect(text('status')).to.equal('In call');
    expect(part('timer')!.hidden).to.be.false;
    expect(text('timer')).to.equal('1:05');
    await waitUntil(() => text('timer') === '1:06', 'the timer runs', { timeout: 3000 });
    await animationsDone();
    await expect(el).to.be.accessible();

    await sendKeys({ press: 'Enter' });
    await settle();
    expect(session.muted).to.be.true;
    // The label says what pressing does; a toggle whose label changes carries no aria-pressed (WAI-ARIA APG).
    expect(text('mute-button')).to.equal('Unmute');
    expect(part('mute-button')!.hasAttribute('data-on')).to.be.true;
    expect(part('mute-button')!.hasAttribute('aria-pressed')).to.be.false;

    await sendKeys({ press: 'Tab' });
    expect(deepActiveElement() === part('hold-button')).to.be.true;
    expect(text('hold-button')).to.equal('Hold');
    await sendKeys({ press: 'Enter' });
    await waitUntil(() => text('hold-button') === 'Resume', 'on hold');
    expect(part('hold-button')!.hasAttribute('data-on')).to.be.true;
    expect(part('hold-button')!.hasAttribute('aria-pressed')).to.be.false;
    expect(text('status')).to.equal('On hold');
    expect(server.requestsTo(`/api/v1/calls/${session.call.id}/hold`)).to.have.length(1);
    await sendKeys({ press: 'Enter' });
    await waitUntil(() => text('hold-button') === 'Hold', 'resumed');
    expect(part('hold-button')!.hasAttribute('data-on')).to.be.false;
    expect(server.requestsTo(`/api/v1/calls/${session.call.id}/resume`)).to.have.length(1);

    const ended = oneEvent(el, 'care-call-ended') as unknown as Promise<CareCallEndedEvent>;
    await sendKeys({ press: 'Tab' });
    expect(deepActiveElement() === part('end-button')).to.be.true;
    await sendKeys({ press: 'Enter' });
    const end = await ended;
    expect(end.state).to.equal('completed');
    expect(end.durationSeconds).to.equal(42);
    expect(end.callId).to.equal(session.call.id);
    await settle();
    expect(text('status')).to.equal('Call ended');
    expect(text('timer')).to.equal('0:42');
    for (const control of ['controls', 'mute-button', 'hold-button', 'end-button']) expect(part(control) === null, `no ${control} once the call is over`).to.be.true;
    expect(part('microphone') === null, 'nor a microphone picker').to.be.true;
    await waitUntil(() => deepActiveElement()?.textContent?.trim() === 'Done', 'focus moves from End call to Done, not to the page');
    await animationsDone();
    await expect(el).to.be.accessible();
  });

  it('will not call the patient before once the host clears patient-id', async () => {
    const { el, picker, part, pickerReady } = await setup('pat-1');
    await pickerReady();
    expect(part('start-button')!.disabled).to.be.false;
    el.patientId = '';
    await waitUntil(() => !picker.patient, 'picker cleared');
    await el.updateComplete;
    expect(part('start-button')!.disabled, 'no patient, no call').to.be.true;
  });

  it("opens on the chart's patient, not on the one chosen when it was last open", async () => {
    const { server, el, picker, part, pickerReady } = await setup('pat-1');
    await pickerReady();
    picker.value = 'pat-5';
    await waitUntil(() => picker.patient?.id === 'pat-5', 'Eleanor chosen');
    el.hide();
    await el.updateComplete;
    el.show();
    await el.updateComplete;
    expect(picker.patient === null, 'not Eleanor while Aroha loads').to.be.true;
    await waitUntil(() => picker.patient?.id === 'pat-1', 'the chart’s patient');
    await el.updateComplete;
    part('start-button')!.click();
    await waitUntil(() => server.requestsTo('/api/v1/patients/pat-1/calls').length === 1, 'Aroha called');
    expect(server.requestsTo('/api/v1/patients/pat-5/calls')).to.have.length(0);
  });

  it('asks before the page is left mid-call, and ends the call for the patient when it is', async () => {
    const { server, part, startCall, settle } = await setup('pat-1');
    const unload = () => {
      const event = new Event('beforeunload', { cancelable: true });
      window.dispatchEvent(event);
      return event.defaultPrevented;
    };
    expect(unload(), 'no call, no question').to.be.false;
    const session = await startCall();
    session.answer();
    await settle();
    expect(unload(), 'the browser asks before leaving a call').to.be.true;
    const endPath = `/api/v1/calls/${session.call.id}/end`;
    expect(server.requestsTo(endPath)).to.have.length(0);
    window.dispatchEvent(new Event('pagehide'));
    await waitUntil(() => server.requestsTo(endPath).length === 1, 'the call is ended as the page goes');
    expect(server.requestsTo(endPath)[0]!.keepalive, 'a request that outlives the page').to.be.true;
    part('end-button')?.click();
    await waitUntil(() => !part('end-button'), 'ended');
    expect(unload(), 'nothing to ask once the call is over').to.be.false;
  });

  it('keeps focus in the notes when the patient hangs up while they are being typed', async () => {
    const { el, part, startCall, settle } = await setup('pat-1');
    const session = await startCall();
    session.answer();
    await settle();
    part<HTMLTextAreaElement>('notes')!.focus();
    await sendKeys({ type: 'Asked about' });
    const ended = oneEvent(el, 'care-call-ended');
    session.finish('completed');
    await ended;
    await settle();
    expect(part('mute-button') === null, 'the call is over').to.be.true;
    expect(deepActiveElement() === part('notes'), 'focus stays where the practitioner is typing').to.be.true;
    await sendKeys({ type: ' the dose' });
    expect(part<HTMLTextAreaElement>('notes')!.value).to.equal('Asked about the dose');
  });

  it('shows a live microphone level, zero while muted', async () => {
    const { part, startCall, settle } = await setup('pat-1');
    const session = await startCall();
    session.answer();
    session.level(0.5);
    await settle();
    const meter = part('level')!;
    expect(meter.getAttribute('role')).to.equal('meter');
    expect(meter.getAttribute('aria-valuenow')).to.equal('50');
    session.setMuted(true);
    await settle();
    expect(part('level')!.getAttribute('aria-valuenow')).to.equal('0');
  });

  it('switches microphones mid-call', async () => {
    const original = navigator.mediaDevices.enumerateDevices.bind(navigator.mediaDevices);
    navigator.mediaDevices.enumerateDevices = async () =>
      [
        { deviceId: 'mic-a', kind: 'audioinput', label: 'Desk microphone', groupId: 'a', toJSON: () => ({}) },
        { deviceId: 'mic-b', kind: 'audioinput', label: 'Headset', groupId: 'b', toJSON: () => ({}) },
      ] as MediaDeviceInfo[];
    try {
      const { root, el, startCall } = await setup('pat-1');
      await waitUntil(() => root.querySelectorAll('#microphone option').length === 3, 'microphones listed');
      const select = root.querySelector<HTMLSelectElement>('#microphone')!;
      select.value = 'mic-a';
      select.dispatchEvent(new Event('change'));
      const session = await startCall();
      expect(session.microphoneId, 'the chosen microphone is used from the start').to.equal('mic-a');
      session.answer();
      await el.updateComplete;
      const live = root.querySelector<HTMLSelectElement>('#microphone')!;
      expect([...live.options].map((o) => o.textContent!.trim())).to.deep.equal(['Default microphone', 'Desk microphone', 'Headset']);
      live.value = 'mic-b';
      live.dispatchEvent(new Event('change'));
      await waitUntil(() => session.switchedTo.length === 1);
      expect(session.switchedTo).to.deep.equal(['mic-b']);
    } finally {
      navigator.mediaDevices.enumerateDevices = original;
    }
  });

  it('says how a call ended: busy, no answer, failed, cancelled; and reconnecting while it recovers', async () => {
    for (const [state, message] of [
      ['busy', 'Busy: the patient declined the call or is on another call'],
      ['no-answer', 'No answer'],
      ['failed', 'The call failed'],
      ['canceled', 'Call cancelled before it was answered'],
    ] as const) {
      const { el, part, text, startCall } = await setup('pat-1');
      const session = await startCall();
      session.ring();
      const ended = oneEvent(el, 'care-call-ended') as unknown as Promise<CareCallEndedEvent>;
      session.finish(state);
      expect((await ended).state).to.equal(state);
      await el.updateComplete;
      expect(text('status')).to.equal(message);
      expect(part('status')!.classList.contains('danger')).to.be.true;
      expect(part('timer')!.hidden, 'no duration for an unanswered call').to.be.true;
      expect([...el.shadowRoot!.querySelectorAll('[slot="footer"]')].map((b) => b.textContent!.trim())).to.deep.equal(['Call again', 'Done']);
    }
    const { el, text, startCall } = await setup('pat-1');
    const session = await startCall();
    session.answer();
    session.reconnecting(true);
    await el.updateComplete;
    expect(text('status')).to.equal('Reconnecting…');
    session.reconnecting(false);
    await el.updateComplete;
    expect(text('status')).to.equal('In call');
  });

  it('asks before closing during a call; keeping the call or ending it and closing', async () => {
    const { server, el, root, part, startCall } = await setup('pat-1');
    const session = await startCall();
    session.answer();
    await el.updateComplete;
    const dialog = root.querySelector<CareDialog>('care-dialog')!;
    const notes = root.querySelector('textarea')!;
    notes.focus();
    await sendKeys({ type: 'BP 120/80' });
    await sendKeys({ press: 'Escape' });
    await el.updateComplete;
    expect(el.open, 'still open').to.be.true;
    expect(dialog.open).to.be.true;
    const confirm = part('confirm')!;
    expect(confirm.getAttribute('role')).to.equal('alertdialog');
    expect(confirm.textContent).to.contain('End the call?');
    expect(confirm.textContent).to.contain('Closing this window hangs up on Aroha Ngata.');
    // Focus on the safe answer: Escape then Enter keeps the call, and focus goes back to the notes.
    await waitUntil(() => deepActiveElement()?.textContent?.includes('Keep talking'), 'focus on Keep talking');
    await animationsDone();
    await expect(el).to.be.accessible();
    await sendKeys({ press: 'Enter' });
    await el.updateComplete;
    expect(part('confirm')).to.be.null;
    expect(session.ended).to.be.false;
    await waitUntil(() => deepActiveElement() === notes, 'focus back in the notes');
    expect(notes.value).to.equal('BP 120/80');

    root.querySelector<CareDialog>('care-dialog')!.requestClose('close-button');
    await el.updateComplete;
    const closed = oneEvent(el, 'care-close');
    [...part('confirm')!.querySelectorAll('button')].find((b) => b.textContent!.includes('End call and close'))!.click();
    await closed;
    expect(el.open).to.be.false;
    expect(session.ended).to.be.true;
    expect(server.requestsTo(`/api/v1/calls/${session.call.id}/end`)).to.have.length(1);
  });

  it('calls again at once with Call again, and closes without asking once the call is over', async () => {
    const { server, el, root, part, startCall } = await setup('pat-1');
    const session = await startCall();
    session.finish('busy');
    await el.updateComplete;
    const started = oneEvent(el, 'care-call-started') as unknown as Promise<CareCallStartedEvent>;
    [...root.querySelectorAll<HTMLButtonElement>('[slot="footer"]')].find((b) => b.textContent!.includes('Call again'))!.click();
    const again = await started;
    expect(again.call.id, 'a new call').not.to.equal(session.call.id);
    expect(server.requestsTo('/api/v1/patients/pat-1/calls')).to.have.length(2);
    await waitUntil(() => server.calls.session !== session && part('mute-button'), 'the new call view');
    await waitUntil(() => deepActiveElement() === part('mute-button'), 'focus on its controls');
    server.calls.session!.finish('no-answer');
    await el.updateComplete;
    const closed = oneEvent(el, 'care-close');
    root.querySelector<CareDialog>('care-dialog')!.requestClose('escape');
    await closed;
    expect(el.open).to.be.false;
  });

  it('saves call notes as you type and when leaving the box', async () => {
    const { server, el, part, startCall } = await setup('pat-1');
    const session = await startCall();
    session.answer();
    await el.updateComplete;
    const notes = part<HTMLTextAreaElement>('notes')!;
    notes.value = 'Discussed dosage';
    notes.dispatchEvent(new InputEvent('input'));
    await el.updateComplete;
    expect(server.requestsTo(`/api/v1/calls/${session.call.id}`).filter((r) => r.method === 'PATCH')).to.have.length(0);
    await waitUntil(() => server.requestsTo(`/api/v1/calls/${session.call.id}`).some((r) => r.method === 'PATCH'), 'saved after a pause', { timeout: 3000 });
    await waitUntil(() => el.shadowRoot!.querySelector('#notes-state')!.textContent === 'Saved');
    notes.value = 'Discussed dosage; call back Friday';
    notes.dispatchEvent(new InputEvent('input'));
    notes.dispatchEvent(new FocusEvent('blur'));
    await waitUntil(() => server.requestsTo(`/api/v1/calls/${session.call.id}`).filter((r) => r.method === 'PATCH').length === 2, 'saved on blur');
    const patches = server.requestsTo(`/api/v1/calls/${session.call.id}`).filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => r.body)).to.deep.equal([{ notes: 'Discussed dosage' }, { notes: 'Discussed dosage; call back Friday' }]);
    expect(server.calls.calls.get(session.call.id)!.entry.notes).to.equal('Discussed dosage; call back Friday');
  });

  it('keeps notes over the limit whole, says they are too long, and saves them once they fit', async () => {
    const { server, el, part, startCall } = await setup('pat-1');
    const session = await startCall();
    session.answer();
    await el.updateComplete;
    const notes = part<HTMLTextAreaElement>('notes')!;
    const patches = () => server.requestsTo(`/api/v1/calls/${session.call.id}`).filter((r) => r.method === 'PATCH');
    notes.focus();
    const pasted = `START ${'x'.repeat(11_990)} END`;
    document.execCommand('insertText', false, pasted);
    notes.dispatchEvent(new FocusEvent('blur'));
    await el.updateComplete;
    expect(notes.value, 'nothing cut off').to.equal(pasted);
    expect(notes.getAttribute('aria-invalid')).to.equal('true');
    const state = () => el.shadowRoot!.querySelector('#notes-state')!.textContent!.replace(/\s+/g, ' ').trim();
    expect(state()).to.equal('Too long to save: 12,000 characters; notes can have at most 10,000.');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(patches(), 'not sent, to be refused').to.have.length(0);

    notes.value = pasted.slice(0, 9_000);
    notes.dispatchEvent(new InputEvent('input'));
    notes.dispatchEvent(new FocusEvent('blur'));
    await waitUntil(() => patches().length === 1, 'saved once short enough');
    expect((patches()[0]!.body as { notes: string }).notes).to.have.length(9_000);
    await waitUntil(() => state() === 'Saved');
    expect(notes.hasAttribute('aria-invalid')).to.be.false;
  });

  it('calls a patient who opted out of texts, and will not call one with no number', async () => {
    // STOP stops texts, not calls: the picker says so, and the call can start.
    const optedOut = await setup('pat-3');
    await optedOut.pickerReady();
    expect(optedOut.picker.shadowRoot!.querySelector('[part="opted-out"]')!.textContent).to.contain('Opted out of SMS');
    expect(optedOut.root.querySelector('[role="alert"]')).to.be.null;
    expect(optedOut.part('start-button')!.disabled).to.be.false;
    await animationsDone();
    await expect(optedOut.el).to.be.accessible();
    const noPhone = await setup('pat-4');
    await noPhone.pickerReady();
    expect(noPhone.root.querySelector('[role="alert"]')!.textContent).to.contain('Daniel Okafor has no phone number on file.');
    expect(noPhone.part('start-button')!.disabled).to.be.true;
  });

  it('explains a refused microphone and a server failure in plain language, and can try again', async () => {
    const { server, el, part, text, pickerReady } = await setup('pat-2');
    await pickerReady();
    server.calls.connectError = Object.assign(new Error('Microphone access was refused'), { name: 'MicrophoneError', code: 'permission_denied' });
    const ended = oneEvent(el, 'care-call-ended') as unknown as Promise<CareCallEndedEvent>;
    part('start-button')!.click();
    expect((await ended).state).to.equal('failed');
    await waitUntil(() => part('error'));
    expect(text('error')).to.contain('The microphone is blocked for this page');
    const placed = server.requestsTo('/api/v1/patients/pat-2/calls');
    expect(placed).to.have.length(1);
    expect(server.requestsTo(`/api/v1/calls/call-1/end`), 'the half-placed call is ended').to.have.length(1);

    server.calls.connectError = null;
    server.options = { failures: { 'POST /api/v1/patients/pat-2/calls': 0 } };
    part('start-button')!.click();
    await waitUntil(() => text('error').includes('CareComms could not be reached'));
    server.options = {};
    part('start-button')!.click();
    await waitUntil(() => part('mute-button'), 'the retry connects');
  });
});
