import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { Patient } from '@carecomms/core';
import type { CarePatientChangeEvent } from '../dialog-events.js';
import { define } from '../lazy.js';
import { patient } from '../test-fixtures/data.js';
import { FakeServer } from '../test-fixtures/fake-server.js';
import { CarePatientPicker } from './patient-picker.js';

define('care-patient-picker', CarePatientPicker);

async function setup(value = '', patients?: Patient[]) {
  const server = new FakeServer(patients ? { patients } : {});
  const el = await fixture<CarePatientPicker>(
    html`<care-patient-picker .client=${server.client()} .value=${value}></care-patient-picker>`,
  );
  const input = el.shadowRoot!.querySelector('input')!;
  const options = () => [...el.shadowRoot!.querySelectorAll<HTMLElement>('[role="option"]')];
  return { server, el, input, options };
}

describe('care-patient-picker', () => {
  it('is a labelled combobox that searches as you type and is operable by keyboard', async () => {
    const { server, el, input, options } = await setup();
    expect(input.getAttribute('role')).to.equal('combobox');
    expect(el.shadowRoot!.querySelector('label')!.textContent).to.equal('Patient');
    input.focus();
    await sendKeys({ type: 'e' });
    await waitUntil(() => options().length === 3, 'three patients match "e"');
    expect(server.requestsTo('/api/v1/patients').at(-1)!.url.searchParams.get('q')).to.equal('e');
    expect(input.getAttribute('aria-expanded')).to.equal('true');
    expect(input.getAttribute('aria-activedescendant')).to.equal('option-0');

    await sendKeys({ press: 'ArrowDown' });
    await el.updateComplete;
    expect(input.getAttribute('aria-activedescendant')).to.equal('option-1');
    const changed = oneEvent(el, 'care-patient-change') as unknown as Promise<CarePatientChangeEvent>;
    await sendKeys({ press: 'Enter' });
    const { patient } = await changed;
    expect(patient!.name).to.equal('Daniel Okafor');
    expect(el.value).to.equal('pat-4');
    expect(input.value).to.equal('Daniel Okafor');
    expect(input.getAttribute('aria-expanded')).to.equal('false');
  });

  it('shows the chosen patient’s formatted phone, and the opted-out state', async () => {
    const { el } = await setup('pat-3');
    await waitUntil(() => el.patient, 'patient loaded');
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[part="phone"]')!.textContent).to.equal('+61 491 570 157');
    expect(el.shadowRoot!.querySelector('[part="opted-out"]')!.textContent).to.contain('Opted out of SMS');
    await expect(el).to.be.accessible();
  });

  it('marks opted-out patients and patients without a phone in the list', async () => {
    const { el, input, options } = await setup();
    input.focus();
    await sendKeys({ press: 'ArrowDown' });
    await waitUntil(() => options().length === 5);
    const text = options().map((o) => o.textContent!.replace(/\s+/g, ' ').trim());
    expect(text).to.include('Chloé Dubois +61 491 570 157 Opted out');
    expect(text).to.include('Daniel Okafor No phone on file');
    await expect(el).to.be.accessible();
  });

  it('opens the list below the field, leaving what was typed in sight', async () => {
    const { el, input, options } = await setup();
    input.focus();
    await sendKeys({ type: 'e' });
    await waitUntil(() => options().length === 3);
    const list = el.shadowRoot!.querySelector('[role="listbox"]')!.getBoundingClientRect();
    const field = input.getBoundingClientRect();
    expect(list.top).to.be.at.least(field.bottom);
    expect(list.left).to.equal(field.left);
    expect(list.width).to.equal(field.width);
  });

  it('closes the list on Escape without letting the key reach an enclosing dialog', async () => {
    const { el, input, options } = await setup();
    const outer: string[] = [];
    el.parentElement!.addEventListener('keydown', (e) => outer.push(e.key));
    input.focus();
    await sendKeys({ press: 'ArrowDown' });
    await waitUntil(() => options().length > 0);
    await sendKeys({ press: 'Escape' });
    await el.updateComplete;
    expect(input.getAttribute('aria-expanded')).to.equal('false');
    expect(outer).to.not.include('Escape');
  });

  it('says when more patients match than the list shows, and narrows as you type', async () => {
    const many = Array.from({ length: 25 }, (_, i) => patient(`pat-${i + 1}`, `Patient ${String(i + 1).padStart(2, '0')}`, null));
    const { el, input, options } = await setup('', many);
    const more = () => el.shadowRoot!.querySelector('[part="more"]');
    const status = () => el.shadowRoot!.querySelector('[role="status"]')!.textContent!.trim();
    input.focus();
    await sendKeys({ press: 'ArrowDown' });
    await waitUntil(() => options().length === 20, 'the first page of patients');
    await waitUntil(() => more(), 'the note that more match');
    expect(more()!.textContent).to.equal('Showing the first 20. Type a name or number to find others.');
    expect(status()).to.equal('Showing the first 20 patients; type to find others');
    await expect(el).to.be.accessible();

    await sendKeys({ type: 'Patient 2' });
    await waitUntil(() => options().length === 6, 'Patient 2, 20 to 25');
    expect(more()).to.equal(null);
    expect(status()).to.equal('6 patients found');

    await sendKeys({ type: '1' });
    await waitUntil(() => options().length === 1, 'Patient 21 alone');
    expect(status()).to.equal('1 patient found');
  });

  it('reloads the chosen patient on refresh(), and says so when their details changed', async () => {
    const own = [patient('pat-1', 'Aroha Ngata', '+61491570006', { optedOut: true })];
    const { server, el } = await setup('pat-1', own);
    await waitUntil(() => el.patient, 'patient loaded');
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[part="opted-out"]'), 'opted out').to.exist;
    const changes: Array<Patient | null> = [];
    el.addEventListener('care-patient-change', (e) => changes.push(e.patient));

    await el.refresh();
    expect(changes, 'nothing changed, nothing to say').to.deep.equal([]);

    own[0]!.optedOut = false;
    await el.refresh();
    await el.updateComplete;
    expect(changes.map((p) => p?.optedOut)).to.deep.equal([false]);
    expect(el.patient!.optedOut).to.be.false;
    expect(el.shadowRoot!.querySelector('[part="opted-out"]'), 'texted START').to.be.null;
    expect(server.requestsTo('/api/v1/patients/pat-1')).to.have.length(3);

    server.options = { failures: { 'GET /api/v1/patients/pat-1': 0 } };
    const warn = console.warn;
    const warnings: unknown[][] = [];
    console.warn = (...args: unknown[]) => warnings.push(args);
    try {
      await el.refresh();
    } finally {
      console.warn = warn;
    }
    expect(el.patient, 'kept when the reload fails').to.deep.include({ id: 'pat-1', optedOut: false });
    expect(changes).to.have.length(1);
    expect(warnings[0]![0]).to.equal('care-patient-picker: could not reload the patient');
  });

  it('says why a patient could not be loaded, and tries again on refresh()', async () => {
    const server = new FakeServer({ failures: { 'GET /api/v1/patients/pat-1': 0 } });
    const el = await fixture<CarePatientPicker>(html`<care-patient-picker .client=${server.client()} value="pat-1"></care-patient-picker>`);
    const error = () => el.shadowRoot!.querySelector('[part="error"]');
    await waitUntil(error, 'the failure shown, with the list closed');
    expect(error()!.getAttribute('role')).to.equal('alert');
    expect(error()!.textContent).to.contain('The patient could not be loaded. Check your connection');

    // The server is back: opening the dialog again refreshes the picker.
    server.options = {};
    await el.refresh();
    await el.updateComplete;
    expect(el.patient?.id).to.equal('pat-1');
    expect(error() === null, 'no error once loaded').to.be.true;

    // Not the practitioner's patient (the server answers 404 for those as for unknown ids).
    el.value = 'pat-someone-else';
    await waitUntil(error, 'not found');
    expect(error()!.textContent).to.contain('This patient was not found, or is not shared with you.');
    expect(el.patient === null).to.be.true;
  });

  it('lets go of the patient shown as soon as another is asked for', async () => {
    const { server, el } = await setup('pat-1');
    await waitUntil(() => el.patient, 'patient loaded');
    const changes: Array<string | null> = [];
    el.addEventListener('care-patient-change', (e) => changes.push(e.patient?.id ?? null));
    server.options = { latencyMs: 300 };
    el.value = 'pat-2';
    await el.updateComplete;
    expect(el.patient === null, 'nobody while Ben loads, rather than Aroha').to.be.true;
    expect(changes).to.deep.equal([null]);
    await waitUntil(() => el.patient?.id === 'pat-2', 'Ben loaded');
    expect(changes).to.deep.equal([null, 'pat-2']);
  });

  it('says so when nothing matches', async () => {
    const { el, input } = await setup();
    input.focus();
    await sendKeys({ type: 'zzz' });
    await waitUntil(() => el.shadowRoot!.querySelector('.hint')?.textContent === 'No matching patients');
  });
});
