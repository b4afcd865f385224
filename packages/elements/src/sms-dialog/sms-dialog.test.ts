import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { executeServerCommand, sendKeys } from '@web/test-runner-commands';
import { CareDialog } from '../dialog/dialog.js';
import type { CareSmsSentEvent } from '../dialog-events.js';
import { define } from '../lazy.js';
import { CarePatientPicker } from '../patient-picker/patient-picker.js';
import { patients } from '../test-fixtures/data.js';
import { FakeServer, type FakeServerOptions } from '../test-fixtures/fake-server.js';
import { animationsDone, deepActiveElement } from '../test-fixtures/helpers.js';
import { CareSmsDialog } from './sms-dialog.js';

define('care-dialog', CareDialog);
define('care-patient-picker', CarePatientPicker);
define('care-sms-dialog', CareSmsDialog);

async function setup(patientId = '', options: FakeServerOptions = {}) {
  const server = new FakeServer(options);
  const el = await fixture<CareSmsDialog>(
    html`<care-sms-dialog .client=${server.client()} patient-id=${patientId} open></care-sms-dialog>`,
  );
  const root = el.shadowRoot!;
  const picker = root.querySelector<CarePatientPicker>('care-patient-picker')!;
  const textarea = root.querySelector('textarea')!;
  const send = () => root.querySelector<HTMLButtonElement>('[part="send-button"]')!;
  const pickerReady = () => waitUntil(() => picker.patient, 'patient loaded').then(() => el.updateComplete);
  return { server, el, root, picker, textarea, send, pickerReady };
}

/** Types as the practitioner would: the browser's own text insertion, which a `maxlength` limits. */
async function typeInto(textarea: HTMLTextAreaElement, text: string) {
  textarea.focus();
  textarea.select();
  if (text) document.execCommand('insertText', false, text);
  else document.execCommand('delete');
}

/** A server whose patients a test may change (text STOP or START) without touching the shared fixtures. */
const ownPatients = () => ({ patients: patients.map((p) => ({ ...p })) });

describe('care-sms-dialog', () => {
  it('sends an SMS using only the keyboard', async () => {
    const { server, el, root, picker, send } = await setup();
    await waitUntil(() => deepActiveElement() === picker.shadowRoot!.querySelector('input'), 'focus in the search box');
    await sendKeys({ type: 'aroha' });
    await waitUntil(() => picker.shadowRoot!.querySelectorAll('[role="option"]').length === 1);
    await sendKeys({ press: 'Enter' });
    await el.updateComplete;
    expect(picker.shadowRoot!.querySelector('[part="phone"]')!.textContent).to.equal('+61 491 570 006');
    expect(send().disabled, 'nothing to send yet').to.be.true;

    await sendKeys({ press: 'Tab' });
    expect(deepActiveElement()?.tagName).to.equal('TEXTAREA');
    await sendKeys({ type: 'See you at 9:30' });
    await el.updateComplete;
    expect(root.querySelector('[part="counter"]')!.textContent!.replace(/\s+/g, ' ').trim()).to.equal(
      '15/160 characters 1 SMS segment',
    );
    await animationsDone();
    await expect(el).to.be.accessible();

    const sent = oneEvent(el, 'care-sms-sent') as unknown as Promise<CareSmsSentEvent>;
    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'Tab' });
    expect(deepActiveElement() === send(), 'focus on Send').to.be.true;
    await sendKeys({ press: 'Enter' });
    const event = await sent;
    expect(event.entry.body).to.equal('See you at 9:30');
    expect(event.patient.id).to.equal('pat-1');
    const request = server.requestsTo('/api/v1/patients/pat-1/messages')[0]!;
    expect(request.body).to.deep.equal({ body: 'See you at 9:30' });
    expect(request.headers.get('idempotency-key')).to.match(/^[0-9a-f-]{36}$/);

    await el.updateComplete;
    expect(root.querySelector('[part="confirmation"]')!.textContent).to.contain('Message sent to Aroha Ngata');
    expect(deepActiveElement()?.textContent?.trim()).to.equal('Done');
    await animationsDone();
    await expect(el).to.be.accessible();
  });

  it('sends with Ctrl+Enter, where Enter alone starts a new line', async () => {
    const { server, el, textarea, pickerReady } = await setup('pat-1');
    await pickerReady();
    textarea.focus();
    await sendKeys({ type: 'Line one' });
    await sendKeys({ press: 'Enter' });
    await sendKeys({ type: 'Line two' });
    await el.updateComplete;
    expect(textarea.value).to.equal('Line one\nLine two');
    expect(server.requestsTo('/api/v1/patients/pat-1/messages'), 'Enter does not send').to.have.length(0);
    const sent = oneEvent(el, 'care-sms-sent');
    await sendKeys({ press: 'Control+Enter' });
    await sent;
    expect(server.requestsTo('/api/v1/patients/pat-1/messages')[0]!.body).to.deep.equal({ body: 'Line one\nLine two' });
  });

  it('gives its buttons and the close button fingertip size on a touch screen', async () => {
    const heights = async () => {
      const { el, root, send } = await setup('pat-1');
      await animationsDone();
      const close = root.querySelector('care-dialog')!.shadowRoot!.querySelector('.close')!;
      const sizes = [send().getBoundingClientRect().height, close.getBoundingClientRect().height, close.getBoundingClientRect().width];
      el.remove();
      return sizes;
    };
    expect(matchMedia('(pointer: coarse)').matches, 'a mouse to begin with').to.be.false;
    expect((await heights()).every((size) => size >= 40 && size < 44), 'with a mouse, 40 px').to.be.true;
    await executeServerCommand('emulate-touch', { enabled: true });
    try {
      expect(matchMedia('(pointer: coarse)').matches, 'touch emulated').to.be.true;
      for (const size of await heights()) expect(size).to.be.at.least(44);
    } finally {
      await executeServerCommand('emulate-touch', { enabled: false });
    }
  });

  it('counts characters out of what the message’s segments hold', async () => {
    const { el, root, textarea, pickerReady } = await setup('pat-1');
    await pickerReady();
    const counter = () => root.querySelector('[part="counter"]')!.textContent!.replace(/\s+/g, ' ').trim();
    expect(counter()).to.equal('0/160 characters 0 SMS segments');
    for (const [length, expected] of [
      [160, '160/160 characters 1 SMS segment'],
      [161, '161/306 characters 2 SMS segments'],
      [307, '307/459 characters 3 SMS segments'],
    ] as const) {
      textarea.value = 'x'.repeat(length);
      textarea.dispatchEvent(new InputEvent('input'));
      await el.updateComplete;
      expect(counter()).to.equal(expected);
    }
  });

  it('counts what is sent, and its counter passes its limit exactly when the message is too long', async () => {
    const { el, root, textarea, send, pickerReady } = await setup('pat-1');
    await pickerReady();
    const counter = () => root.querySelector('[part="counter"]')!.textContent!.replace(/\s+/g, ' ').trim();
    const tooLong = () => root.querySelector('[part="too-long"]')?.textContent!.replace(/\s+/g, ' ').trim() ?? null;
    for (const [body, expected, error] of [
      // Spaces around the message are not sent.
      ['  ' + 'x'.repeat(1600) + '   \n', '1,600/1,600 characters 11 SMS segments', null],
      ['   \n  ', '0/160 characters 0 SMS segments', null],
      // 801 euro signs: 801 characters (within the limit) that a handset counts as 1,602, in 11 segments.
      ['€'.repeat(801), '1,602/1,683 characters 11 SMS segments', null],
      // 1,601 characters, two of them euro signs: over the limit, and the counter says so too.
      ['x'.repeat(1599) + '€€', '1,603/1,602 characters 11 SMS segments', 'Too long: 1,601 characters; an SMS can have at most 1,600.'],
      ['x'.repeat(1709) + ' ', '1,709/1,600 characters 12 SMS segments', 'Too long: 1,709 characters; an SMS can have at most 1,600.'],
    ] as const) {
      await typeInto(textarea, body);
      await el.updateComplete;
      expect(counter(), JSON.stringify(body.slice(-8))).to.equal(expected);
      expect(tooLong()).to.equal(error);
      expect(send().disabled, 'Send only when it can be sent').to.equal(error !== null || !body.trim());
    }
  });

  it('counts segments and warns when Unicode shortens them', async () => {
    const { el, root, textarea, pickerReady } = await setup('pat-1');
    await pickerReady();
    textarea.value = 'Thanks — see you soon 🙂 ' + 'x'.repeat(60);
    textarea.dispatchEvent(new InputEvent('input'));
    await el.updateComplete;
    expect(root.querySelector('[part="counter"]')!.textContent!.replace(/\s+/g, ' ').trim()).to.equal('85/134 characters 2 SMS segments');
    const warning = root.querySelector('.message.warning')!;
    expect(warning.textContent).to.contain('need Unicode (—, 🙂)');
    expect(warning.textContent).to.contain('70 characters instead of 160');

    // Pasted from a word processor: characters that cannot be seen are named, so they can be found and removed.
    textarea.value = 'See\u00a0you\tat 9\u200b';
    textarea.dispatchEvent(new InputEvent('input'));
    await el.updateComplete;
    expect(root.querySelector('.message.warning')!.textContent).to.contain(
      'need Unicode (non-breaking space, tab, invisible character U+200B)',
    );
  });

  it('will not text a patient who opted out', async () => {
    const { el, root, textarea, send, pickerReady } = await setup('pat-3');
    await pickerReady();
    expect(root.querySelector('[role="alert"]')!.textContent).to.contain('Chloé Dubois has opted out of SMS');
    expect(textarea.disabled).to.be.true;
    expect(send().disabled).to.be.true;
    await animationsDone();
    await expect(el).to.be.accessible();
  });

  it('explains a patient without a phone', async () => {
    const { root, send, pickerReady } = await setup('pat-4');
    await pickerReady();
    expect(root.querySelector('[role="alert"]')!.textContent).to.contain('Daniel Okafor has no mobile number on file.');
    expect(send().disabled).to.be.true;
  });

  it('shows a readable error and reuses the idempotency key on retry', async () => {
    const { server, el, root, textarea, send, pickerReady } = await setup('pat-2', {
      failures: { 'POST /api/v1/patients/pat-2/messages': 0 },
    });
    await pickerReady();
    textarea.value = 'Hello';
    textarea.dispatchEvent(new InputEvent('input'));
    await el.updateComplete;
    send().click();
    await waitUntil(() => root.querySelector('[part="error"]'));
    expect(root.querySelector('[part="error"]')!.textContent).to.contain(
      'CareComms could not be reached. Check your connection and try again.',
    );
    server.options = {};
    const sent = oneEvent(el, 'care-sms-sent');
    send().click();
    await sent;
    const keys = server.requestsTo('/api/v1/patients/pat-2/messages').map((r) => r.headers.get('idempotency-key'));
    expect(keys).to.have.length(2);
    expect(keys[0]).to.equal(keys[1]);
  });

  it('maps server problems to plain language', async () => {
    const { el, root, textarea, send, pickerReady } = await setup('pat-1', {
      failures: { 'POST /api/v1/patients/pat-1/messages': 503 },
    });
    await pickerReady();
    textarea.value = 'Hello';
    textarea.dispatchEvent(new InputEvent('input'));
    await el.updateComplete;
    send().click();
    await waitUntil(() => root.querySelector('[part="error"]'));
    expect(root.querySelector('[part="error"]')!.textContent).to.contain('Something went wrong on the server.');
  });

  it('counts down the wait after too many sends, announcing only its start and its end, then lets Send work again', async () => {
    const { server, el, root, textarea, send, pickerReady } = await setup('pat-1', {
      failures: { 'POST /api/v1/patients/pat-1/messages': 429 },
      retryAfterSeconds: 3,
    });
    await pickerReady();
    await typeInto(textarea, 'Hello');
    await el.updateComplete;
    send().click();
    const error = () => root.querySelector('[part="error"]');
    await waitUntil(error, 'rate limit shown');
    expect(error()!.textContent!.replace(/\s+/g, ' ').trim()).to.equal(
      'Too many messages were sent in a short time. You can send again in 3 seconds.',
    );
    // Out of every live region: its seconds change each second.
    expect(!!error()!.closest('[role="alert"], [role="status"], [aria-live]'), 'countdown in a live region').to.be.false;
    const alert = root.querySelector('[role="alert"]')!;
    expect(alert.textContent!.trim(), 'announced once').to.equal('Too many messages were sent in a short time. You can send again in 3 seconds.');
    expect(send().disabled, 'Send waits').to.be.true;
    server.options = {};
    // Ctrl+Enter does not get round the wait either.
    root.querySelector('form')!.requestSubmit();
    expect(server.requestsTo('/api/v1/patients/pat-1/messages')).to.have.length(1);

    await waitUntil(() => /in 2 seconds/.test(error()?.textContent ?? ''), 'counting down', { timeout: 2500 });
    expect(alert.isConnected && alert.textContent!.trim(), 'the announcement stays as it was').to.equal(
      'Too many messages were sent in a short time. You can send again in 3 seconds.',
    );
    await waitUntil(() => /in 1 second\./.test(error()?.textContent ?? ''), 'one second left', { timeout: 2500 });
    await waitUntil(() => !error(), 'wait over', { timeout: 2500 });
    const canSend = root.querySelector('[part="can-send"]')!;
    expect(canSend.textContent!.trim()).to.equal('You can send messages again.');
    expect(!!canSend.closest('[role="status"]'), 'announced').to.be.true;
    expect(send().disabled, 'Send works again').to.be.false;
    const sent = oneEvent(el, 'care-sms-sent');
    send().click();
    await sent;
  });

  it('keeps what was typed when closed, for each patient, until it is sent', async () => {
    const { server, el, root, send, pickerReady } = await setup('pat-1');
    await pickerReady();
    // The form is drawn afresh after a send.
    const textarea = () => root.querySelector('textarea')!;
    const picker = () => root.querySelector<CarePatientPicker>('care-patient-picker')!;
    const reopen = async () => {
      el.show();
      await el.updateComplete;
    };
    await typeInto(textarea(), 'Running 10 minutes late');
    await sendKeys({ press: 'Escape' });
    await waitUntil(() => !el.open, 'closed with Escape');
    await reopen();
    expect(textarea().value, 'after Escape').to.equal('Running 10 minutes late');

    root.querySelector('care-dialog')!.shadowRoot!.querySelector<HTMLElement>('[part="close-button"]')!.click();
    await waitUntil(() => !el.open, 'closed with the X');
    await reopen();
    expect(textarea().value, 'after the X').to.equal('Running 10 minutes late');
    expect(send().disabled, 'ready to send').to.be.false;

    // Another patient has their own draft; the first one's comes back with them.
    el.patientId = 'pat-2';
    await waitUntil(() => picker().patient?.id === 'pat-2', 'Ben loaded');
    await el.updateComplete;
    expect(textarea().value, 'nothing for Ben yet').to.equal('');
    await typeInto(textarea(), 'Your script is ready');
    el.patientId = 'pat-1';
    await waitUntil(() => picker().patient?.id === 'pat-1', 'Aroha loaded');
    await el.updateComplete;
    expect(textarea().value, 'Aroha’s draft').to.equal('Running 10 minutes late');
    expect(JSON.stringify({ ...localStorage, ...sessionStorage }), 'patient data stays out of storage').not.to.contain('late');

    const sent = oneEvent(el, 'care-sms-sent');
    send().click();
    await sent;
    expect(server.requestsTo('/api/v1/patients/pat-1/messages')[0]!.body).to.deep.equal({ body: 'Running 10 minutes late' });
    el.hide();
    await reopen();
    expect(textarea().value, 'sent, so no draft').to.equal('');

    el.patientId = 'pat-2';
    await waitUntil(() => picker().patient?.id === 'pat-2', 'Ben loaded again');
    await el.updateComplete;
    expect(textarea().value, 'Ben’s draft').to.equal('Your script is ready');
    await typeInto(textarea(), '');
    el.hide();
    await reopen();
    expect(textarea().value, 'emptied, so no draft').to.equal('');
  });

  it('acts on no patient once the host clears patient-id, and keeps no draft across sessions', async () => {
    const { server, el, root, picker, send, pickerReady } = await setup('pat-1');
    await pickerReady();
    const textarea = () => root.querySelector('textarea')!;
    await typeInto(textarea(), 'Your results are in');
    expect(send().disabled).to.be.false;

    // The EHR's chart switches to all patients: the dialog is for nobody until one is chosen.
    el.patientId = '';
    await waitUntil(() => !picker.patient, 'picker cleared');
    await el.updateComplete;
    expect(picker.shadowRoot!.querySelector('input')!.value).to.equal('');
    expect(textarea().value, 'Aroha’s draft is not shown for nobody').to.equal('');
    await typeInto(textarea(), 'Hello');
    expect(send().disabled, 'no patient, no send').to.be.true;
    root.querySelector('form')!.requestSubmit();
    await el.updateComplete;
    expect(server.requestsTo('/api/v1/patients/pat-1/messages'), 'nothing sent to the patient before').to.have.length(0);

    // Another practitioner signs in (a new client): the first one's drafts are gone.
    el.client = new FakeServer().client();
    el.patientId = 'pat-1';
    await waitUntil(() => picker.patient?.id === 'pat-1', 'Aroha loaded for the new session');
    await el.updateComplete;
    expect(textarea().value, 'no draft from the session before').to.equal('');
  });

  it("opens on the chart's patient whoever was chosen before, and a search neither loses the message nor gives it to another patient", async () => {
    const { server, el, root, picker, send, pickerReady } = await setup('pat-1');
    await pickerReady();
    const textarea = () => root.querySelector('textarea')!;
    const search = async (text: string) => {
      picker.shadowRoot!.querySelector('input')!.focus();
      await sendKeys({ press: 'Control+A' });
      await sendKeys({ type: text });
      await el.updateComplete;
    };
    const choose = async (text: string, id: string) => {
      await search(text);
      await waitUntil(() => {
        const options = picker.shadowRoot!.querySelectorAll('[role="option"]');
        return options.length === 1 && options[0]!.textContent!.toLowerCase().includes(text);
      }, `one match for ${text}`);
      await sendKeys({ press: 'Enter' });
      await waitUntil(() => picker.patient?.id === id, `${id} chosen`);
      await el.updateComplete;
    };
    await typeInto(textarea(), 'Draft for Aroha');

    await search('Be');
    expect(picker.patient === null, 'searching').to.be.true;
    expect(textarea().value, 'the message stays while searching').to.equal('Draft for Aroha');
    expect(send().disabled, 'but goes to nobody').to.be.true;
    await typeInto(textarea(), 'Rewritten for Aroha');
    await choose('aroha', 'pat-1');
    expect(textarea().value, 'what was written meanwhile, not the older draft').to.equal('Rewritten for Aroha');

    await choose('ben', 'pat-2');
    expect(textarea().value, 'Aroha’s message is not Ben’s').to.equal('');
    await typeInto(textarea(), 'Draft for Ben');

    // Closed on Ben, opened again from Aroha's chart: Aroha, with her message.
    el.hide();
    await el.updateComplete;
    el.show();
    await waitUntil(() => picker.patient?.id === 'pat-1', 'the chart’s patient');
    await el.updateComplete;
    expect(picker.shadowRoot!.querySelector('input')!.value).to.equal('Aroha Ngata');
    expect(textarea().value).to.equal('Rewritten for Aroha');

    // Closed mid-search: opened again on the chart's patient, not on the half-typed search.
    await search('Mar');
    el.hide();
    await el.updateComplete;
    el.show();
    await waitUntil(() => picker.patient?.id === 'pat-1', 'the chart’s patient again');
    await el.updateComplete;
    expect(picker.shadowRoot!.querySelector('input')!.value).to.equal('Aroha Ngata');
    const sent = oneEvent(el, 'care-sms-sent');
    send().click();
    await sent;
    expect(server.requestsTo('/api/v1/patients/pat-1/messages')[0]!.body).to.deep.equal({ body: 'Rewritten for Aroha' });
    expect(server.requestsTo('/api/v1/patients/pat-2/messages')).to.have.length(0);
  });

  it('stays with the chosen patient after Send another', async () => {
    const { server, el, root, picker, textarea, send } = await setup();
    picker.value = 'pat-5';
    await waitUntil(() => picker.patient, 'Eleanor chosen');
    await typeInto(textarea, 'See you Tuesday');
    const sent = oneEvent(el, 'care-sms-sent');
    send().click();
    await sent;
    await el.updateComplete;
    root.querySelector<HTMLButtonElement>('[part="confirmation"] ~ button:not([autofocus])')!.click();
    await el.updateComplete;
    const again = root.querySelector<CarePatientPicker>('care-patient-picker')!;
    await waitUntil(() => again.patient, 'the patient shown again');
    expect(again.patient!.id).to.equal('pat-5');
    expect(again.shadowRoot!.querySelector('input')!.value).to.equal('Eleanor Whitfield');
    await typeInto(root.querySelector('textarea')!, 'And bring your inhaler');
    await el.updateComplete;
    const another = oneEvent(el, 'care-sms-sent');
    send().click();
    await another;
    expect(server.requestsTo('/api/v1/patients/pat-5/messages')).to.have.length(2);
  });

  it('keeps a pasted message over 1,600 characters whole, says it is too long and will not send it', async () => {
    const { el, root, textarea, send, pickerReady } = await setup('pat-1');
    await pickerReady();
    await typeInto(textarea, 'x'.repeat(1700));
    await el.updateComplete;
    expect(textarea.value.length, 'nothing cut off').to.equal(1700);
    const error = root.querySelector('[part="too-long"]')!;
    expect(error.textContent!.replace(/\s+/g, ' ').trim()).to.equal('Too long: 1,700 characters; an SMS can have at most 1,600.');
    expect(textarea.getAttribute('aria-invalid')).to.equal('true');
    expect(textarea.getAttribute('aria-describedby')!.split(' ')).to.include(error.id);
    expect(root.querySelector('[part="counter"]')!.textContent, 'no room suggested').to.contain('1,700/1,600 characters');
    expect(send().disabled).to.be.true;
    await animationsDone();
    await expect(el).to.be.accessible();

    await typeInto(textarea, 'x'.repeat(1600));
    await el.updateComplete;
    expect(root.querySelector('[part="too-long"]')).to.be.null;
    expect(textarea.hasAttribute('aria-invalid')).to.be.false;
    expect(send().disabled).to.be.false;
  });

  it('opens on a chart with focus in the message, so typing writes it; with no patient, in the search', async () => {
    const { el, picker, textarea, pickerReady } = await setup('pat-1');
    await waitUntil(() => deepActiveElement() === textarea, 'focus in the message box');
    await pickerReady();
    expect(deepActiveElement() === textarea, 'still there once the patient has loaded').to.be.true;
    expect(picker.patient?.name).to.equal('Aroha Ngata');
    el.remove();

    // Chloé has opted out: the message box is disabled once that is known, and focus goes to the search, not the page.
    const optedOut = await setup('pat-3');
    await waitUntil(() => optedOut.textarea.disabled, 'blocked');
    await waitUntil(() => deepActiveElement() === optedOut.picker.shadowRoot!.querySelector('input'), 'focus in the search box');
  });

  it('reloads the patient on opening, so texting STOP or START shows', async () => {
    const { server, el, root, picker, textarea, send, pickerReady } = await setup('pat-2', ownPatients());
    await pickerReady();
    const ben = server.patients.find((p) => p.id === 'pat-2')!;
    const reopen = async () => {
      el.hide();
      await el.updateComplete;
      el.show();
      await el.updateComplete;
    };

    ben.optedOut = true;
    await reopen();
    await waitUntil(() => textarea.disabled, 'blocked once Ben opted out');
    expect(root.querySelector('[role="alert"]')!.textContent).to.contain('Ben Carter has opted out of SMS');
    await picker.updateComplete;
    expect(picker.shadowRoot!.querySelector('[part="opted-out"]'), 'tag').to.exist;

    ben.optedOut = false;
    await reopen();
    await waitUntil(() => !textarea.disabled, 'unblocked once Ben opted back in');
    expect(root.querySelector('[role="alert"]')).to.be.null;
    await picker.updateComplete;
    expect(picker.shadowRoot!.querySelector('[part="opted-out"]'), 'no tag').to.be.null;
    // Set as a paste would (input event), not through execCommand, which needs the page to hold the browser's
    // focus: with two test files running at once it sometimes did not, and nothing was typed.
    textarea.value = 'Welcome back';
    textarea.dispatchEvent(new InputEvent('input'));
    await waitUntil(() => !send().disabled, 'ready to send once Ben opted back in');
    expect(server.requestsTo('/api/v1/patients/pat-2').filter((r) => r.method === 'GET')).to.have.length(3);
  });

  it('shows a STOP or START texted while it is open, at once', async () => {
    const { server, el, root, textarea, send, pickerReady } = await setup('pat-2', ownPatients());
    await pickerReady();
    await typeInto(textarea, 'Your results are in');
    await el.updateComplete;
    const ben = server.patients.find((p) => p.id === 'pat-2')!;
    ben.optedOut = true;
    server.emit('patient.updated', { ...ben });
    await waitUntil(() => textarea.disabled, 'blocked once Ben texted STOP');
    expect(root.querySelector('.message.warning')!.textContent).to.contain('Ben Carter has opted out of SMS');
    ben.optedOut = false;
    server.emit('patient.updated', { ...ben });
    await waitUntil(() => !textarea.disabled, 'unblocked once Ben texted START');
    await el.updateComplete;
    expect(send().disabled).to.be.false;
    expect(textarea.value, 'the message kept').to.equal('Your results are in');
    // Another patient's change is not this dialog's business.
    const gets = server.requestsTo('/api/v1/patients/pat-2').length;
    server.emit('patient.updated', { ...server.patients.find((p) => p.id === 'pat-5')! });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.requestsTo('/api/v1/patients/pat-2')).to.have.length(gets);
    el.hide();
    await el.updateComplete;
    await waitUntil(() => server.listeners === 0, 'no stream once closed');
  });

  it('reloads the patient when the server refuses a send because they opted out', async () => {
    const { server, el, root, picker, textarea, send, pickerReady } = await setup('pat-2', ownPatients());
    await pickerReady();
    await typeInto(textarea, 'Your results are in');
    await el.updateComplete;
    server.patients.find((p) => p.id === 'pat-2')!.optedOut = true;
    send().click();
    await waitUntil(() => textarea.disabled, 'blocked once the server said Ben opted out');
    expect(root.querySelector('[part="error"]')!.textContent).to.contain('This patient has opted out of SMS, so the message was not sent.');
    expect(root.querySelector('.message.warning')!.textContent).to.contain('Ben Carter has opted out of SMS');
    await picker.updateComplete;
    expect(picker.shadowRoot!.querySelector('[part="opted-out"]'), 'tag').to.exist;
    expect(send().disabled).to.be.true;
    expect(textarea.value, 'the draft is kept').to.equal('Your results are in');
  });

  it('closes with Escape', async () => {
    const { el } = await setup();
    const closed = oneEvent(el, 'care-close');
    await sendKeys({ press: 'Escape' });
    await closed;
    expect(el.open).to.be.false;
  });
});
