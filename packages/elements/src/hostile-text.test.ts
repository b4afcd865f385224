import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { CorrespondenceEntry } from '@carecomms/core';
import './define.js';
import type { CareComms } from './comms/comms.js';
import { ensureDefined } from './lazy.js';
import { makeEntries, patients, session } from './test-fixtures/data.js';
import { FakeServer } from './test-fixtures/fake-server.js';
import { deepQuery, ignoreResizeObserverLoop } from './test-fixtures/helpers.js';
import type { CareVideoRoom } from './video-room/video-room.js';

ignoreResizeObserverLoop();

/**
 * Text that would run or add elements if any element rendered it as HTML.
 * Each carries the `pwned` marker: an element with it, or `window.pwned`,
 * means the text was parsed.
 */
const hostile = (what: string) => `${what} <img src="x" class="pwned" onerror="window.pwned=1"><script>window.pwned=1</script><b class="pwned">bold</b>`;

declare global {
  interface Window {
    pwned?: number;
  }
}

/** Every text node under `root`, through every shadow root. */
function deepText(root: Node): string {
  let text = '';
  const walk = (node: Node) => {
    if (node.nodeType === Node.TEXT_NODE) text += node.textContent;
    if (node instanceof Element && node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) walk(child);
  };
  walk(root);
  return text;
}

function expectNothingParsed(root: Element): void {
  expect(deepQuery(root, '.pwned'), 'an element made from data').to.be.null;
  expect(deepQuery(root, 'script'), 'a script element').to.be.null;
  expect(window.pwned, 'script ran').to.be.undefined;
}

describe('hostile text renders as text in every element', () => {
  const server = () => {
    const names = patients.map((p) => ({ ...p, name: hostile(p.name) }));
    const entries: CorrespondenceEntry[] = makeEntries(12).map((e, i) => ({
      ...e,
      patientName: hostile(e.patientName ?? 'Patient'),
      body: e.body === null ? null : hostile(`Reply ${i}`),
      notes: e.channel === 'voice' ? hostile('Notes') : e.notes,
    }));
    return new FakeServer({
      session: { ...session, practitioner: { ...session.practitioner, name: hostile('Dr Lee') }, tenant: { ...session.tenant, name: hostile('Clinic') } },
      patients: names,
      entries,
    });
  };

  it('<care-comms>: the bar, the list, and each dialog opened for a patient', async () => {
    const fake = server();
    const el = await fixture<CareComms>(html`<care-comms .client=${fake.client()} patient-id="pat-1"></care-comms>`);
    const list = () => el.shadowRoot!.querySelector('care-correspondence-list')!;
    await waitUntil(() => (list().shadowRoot?.querySelectorAll('[role="listitem"]').length ?? 0) > 0, 'history shown', { timeout: 10000 });
    await waitUntil(() => deepText(el).includes('Notes: Notes <img'), 'entry details shown', { timeout: 10000 });
    const text = deepText(el);
    expect(text).to.include(hostile('Dr Lee'));
    expect(text).to.include(hostile('Reply 0'));
    expectNothingParsed(el);

    const bar = el.shadowRoot!.querySelector('care-action-bar')!;
    for (const [label, tag] of [
      ['Send SMS', 'care-sms-dialog'],
      ['Make Call', 'care-call-dialog'],
      ['Video Call', 'care-video-dialog'],
    ] as const) {
      [...bar.shadowRoot!.querySelectorAll('button')].find((b) => b.textContent!.trim() === label)!.click();
      await waitUntil(() => el.shadowRoot!.querySelector(tag)?.open, `${tag} open`, { timeout: 10000 });
      const dialog = el.shadowRoot!.querySelector(tag)!;
      // The preselected patient's name, in the picker (a field's value: text by definition).
      const picker = () => dialog.shadowRoot?.querySelector('care-patient-picker')?.shadowRoot?.querySelector('input');
      await waitUntil(() => picker()?.value === hostile('Aroha Ngata'), `${tag} names the patient`, { timeout: 10000 });
      expectNothingParsed(el);
      dialog.hide();
      await waitUntil(() => !dialog.open);
    }
  });

  it('<care-patient-picker>: search results and the opted-out notice', async () => {
    const fake = server();
    const el = await fixture<CareComms>(html`<care-comms .client=${fake.client()}></care-comms>`);
    const bar = () => el.shadowRoot!.querySelector('care-action-bar')!;
    await waitUntil(() => bar().shadowRoot?.querySelector('button'), 'bar ready', { timeout: 10000 });
    [...bar().shadowRoot!.querySelectorAll('button')].find((b) => b.textContent!.trim() === 'Send SMS')!.click();
    const dialog = () => el.shadowRoot!.querySelector('care-sms-dialog');
    await waitUntil(() => dialog()?.open, 'dialog open', { timeout: 10000 });
    const input = () => deepQuery<HTMLElement>(el, 'care-patient-picker')?.shadowRoot?.querySelector('input');
    await waitUntil(() => input(), 'picker shown', { timeout: 10000 });
    input()!.focus();
    await sendKeys({ type: 'Chlo' });
    await waitUntil(() => deepText(dialog()!).includes(hostile('Chloé Dubois')), 'result listed', { timeout: 10000 });
    await sendKeys({ press: 'ArrowDown' });
    await sendKeys({ press: 'Enter' });
    await waitUntil(() => deepText(dialog()!).includes('has opted out'), 'opted-out notice', { timeout: 10000 });
    expectNothingParsed(el);
  });

  it('<care-video-room>: the clinic and practitioner on the patient’s page', async () => {
    await ensureDefined('care-video-room');
    const fake = server();
    const visit = await fake.client().videoVisits.start('pat-1');
    const token = visit.joinUrl.split('/join/')[1]!;
    const el = await fixture<CareVideoRoom>(html`<care-video-room base-url="https://carecomms.test" join-token=${token} .fetch=${fake.fetch}></care-video-room>`);
    const join = () => el.shadowRoot!.querySelector<HTMLButtonElement>('[part="join-button"]');
    await waitUntil(() => join() && !join()!.disabled, 'camera ready', { timeout: 10000 });
    join()!.click();
    await waitUntil(() => deepText(el).includes(`Waiting for ${hostile('Dr Lee')}`), 'host named', { timeout: 10000 });
    expect(deepText(el)).to.include(hostile('Clinic'));
    expectNothingParsed(el);
  });
});
