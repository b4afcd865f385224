import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys, setViewport } from '@web/test-runner-commands';
import '../define.js';
import { setCareLocale } from '../localization.js';
import { session } from '../test-fixtures/data.js';
import { FakeServer, type FakeServerOptions } from '../test-fixtures/fake-server.js';
import { animationsDone, deepActiveElement, deepQuery, ignoreResizeObserverLoop, waitFor } from '../test-fixtures/helpers.js';
import type { CareComms } from './comms.js';

ignoreResizeObserverLoop();

async function setup(options: FakeServerOptions = {}, attrs: { patientId?: string; locale?: string } = {}) {
  const server = new FakeServer(options);
  const el = await fixture<CareComms>(
    html`<care-comms .client=${server.client()} patient-id=${attrs.patientId ?? ''} locale=${attrs.locale ?? 'en'}></care-comms>`,
  );
  const bar = el.shadowRoot!.querySelector('care-action-bar')!;
  const button = (name: string) =>
    [...(bar.shadowRoot?.querySelectorAll('button') ?? [])].find((b) => b.textContent!.trim() === name);
  const rows = () => {
    const list = el.shadowRoot!.querySelector('care-correspondence-list')!;
    return [...list.shadowRoot!.querySelectorAll('[role="listitem"]')];
  };
  return { server, el, bar, button, rows };
}

describe('care-comms', () => {
  // The list fetches its virtualizer on first use; load it once up front so per-test waits stay short.
  before(() => import('@lit-labs/virtualizer/virtualize.js'));

  afterEach(async () => {
    await setViewport({ width: 1280, height: 800 });
    await setCareLocale('en');
  });

  it('lays out the bar from the session, the practitioner, and the live list', async () => {
    const { el, button, rows } = await setup();
    await waitUntil(() => button('Send SMS') && rows().length > 0, 'bar and list ready');
    expect(button('Make Call')).to.exist;
    expect(button('Video Call')).to.exist;
    expect(el.shadowRoot!.querySelector('.practitioner')!.textContent).to.equal('Dr Amelia Lee');
    expect(el.shadowRoot!.querySelector('.sandbox')).to.exist;
    await animationsDone();
    await expect(el).to.be.accessible();
  });

  it('hides actions the server does not enable', async () => {
    const { bar, button } = await setup({ session: { ...session, features: ['sms'] } });
    await waitUntil(() => button('Send SMS'));
    expect(bar.shadowRoot!.querySelectorAll('button')).to.have.length(1);
  });

  it('opens the SMS dialog from the bar, closes it with Escape and returns focus', async () => {
    const { el, button } = await setup();
    await waitUntil(() => button('Send SMS'));
    button('Send SMS')!.focus();
    await sendKeys({ press: 'Enter' });
    const dialog = await waitFor<HTMLDialogElement>(el.shadowRoot!, 'care-sms-dialog');
    const native = await waitUntil(() => deepQuery<HTMLDialogElement>(dialog, 'dialog[open]')).then(
      () => deepQuery<HTMLDialogElement>(dialog, 'dialog')!,
    );
    expect(native.matches(':modal')).to.be.true;
    expect(deepActiveElement()?.getAttribute('role')).to.equal('combobox');
    await animationsDone();
    await expect(el).to.be.accessible();

    await sendKeys({ press: 'Escape' });
    await waitUntil(() => !native.open, 'closed');
    expect(deepActiveElement() === button('Send SMS'), 'focus back on Send SMS').to.be.true;
  });

  it('opens the call and video dialogs', async () => {
    const { el, button } = await setup();
    await waitUntil(() => button('Make Call'));
    button('Make Call')!.click();
    const call = await waitFor(el.shadowRoot!, 'care-call-dialog');
    await waitUntil(() => deepQuery(call, 'dialog[open]'));
    expect(deepQuery(call, '.title')!.textContent).to.equal('Make Call');
    await sendKeys({ press: 'Escape' });
    await waitUntil(() => !deepQuery(call, 'dialog[open]'));

    button('Video Call')!.click();
    const video = await waitFor(el.shadowRoot!, 'care-video-dialog');
    await waitUntil(() => deepQuery(video, 'dialog[open]'));
    expect(deepQuery(video, '.title')!.textContent).to.equal('Video Call');
  });

  it('adds a placed call to the list at once', async () => {
    const { server, el, button, rows } = await setup({}, { patientId: 'pat-1' });
    await waitUntil(() => button('Make Call') && rows().length > 0);
    const before = rows().length;
    await el.openAction('voice');
    const dialog = await waitFor(el.shadowRoot!, 'care-call-dialog');
    await waitUntil(() => deepQuery(dialog, '[part="phone"]'), 'preselected patient loaded');
    const start = await waitFor<HTMLButtonElement>(dialog, '[part~="start-button"]');
    await waitUntil(() => !start.disabled);
    start.click();
    await waitUntil(() => rows().length === before + 1, 'the new voice entry is listed');
    expect(rows()[0]!.textContent).to.match(/Voice[\s\S]*Starting/);
    await waitUntil(() => server.calls.session, 'the call connects');
  });

  it('adds a sent SMS to the list at once', async () => {
    const { server, el, button, rows } = await setup({}, { patientId: 'pat-1' });
    await waitUntil(() => button('Send SMS') && rows().length > 0);
    const before = rows().length;
    await el.openAction('sms');
    const dialog = await waitFor(el.shadowRoot!, 'care-sms-dialog');
    const textarea = await waitFor<HTMLTextAreaElement>(dialog, 'textarea');
    await waitUntil(() => deepQuery(dialog, '[part="phone"]'), 'preselected patient loaded');
    textarea.value = 'Your results are ready';
    textarea.dispatchEvent(new InputEvent('input'));
    await (dialog as unknown as { updateComplete: Promise<unknown> }).updateComplete;
    const sent = oneEvent(el, 'care-sms-sent');
    deepQuery<HTMLButtonElement>(dialog, '[part="send-button"]')!.click();
    await sent;
    await waitUntil(() => rows().length === before + 1);
    expect(rows()[0]!.textContent).to.contain('Your results are ready');
    expect(server.requestsTo('/api/v1/correspondence')[0]!.url.searchParams.get('patientId')).to.equal('pat-1');
  });

  it('creates its client from base-url and token, and reloads for a new token', async () => {
    const server = new FakeServer();
    const originalFetch = window.fetch;
    window.fetch = server.fetch;
    try {
      const el = await fixture<CareComms>(html`<care-comms base-url="https://carecomms.test" token="one"></care-comms>`);
      await waitUntil(() => server.requestsTo('/api/v1/correspondence').length === 1, 'list loaded');
      expect(server.requestsTo('/api/v1/session')[0]!.headers.get('authorization')).to.equal('Bearer one');
      el.token = 'two';
      await waitUntil(() => server.requestsTo('/api/v1/session').length === 2, 'session reloaded');
      await waitUntil(() => server.requestsTo('/api/v1/correspondence').length === 2, 'list reloaded');
      expect(server.requestsTo('/api/v1/correspondence')[1]!.headers.get('authorization')).to.equal('Bearer two');
    } finally {
      window.fetch = originalFetch;
    }
  });

  it('speaks Spanish when asked', async () => {
    const { button } = await setup({}, { locale: 'es' });
    await waitUntil(() => button('Enviar SMS'), 'Spanish labels');
    expect(button('Llamar')).to.exist;
    expect(button('Videollamada')).to.exist;
  });

  it('fits a 375px phone without sideways scrolling', async () => {
    await setViewport({ width: 375, height: 740 });
    const { el, button, rows } = await setup();
    await waitUntil(() => button('Send SMS') && rows().length > 0);
    expect(document.documentElement.scrollWidth).to.be.at.most(375);
    expect(el.getBoundingClientRect().right).to.be.at.most(375);
  });
});
