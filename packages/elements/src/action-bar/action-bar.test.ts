import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { Feature } from '@carecomms/core';
import { define } from '../lazy.js';
import { FakeServer } from '../test-fixtures/fake-server.js';
import { session } from '../test-fixtures/data.js';
import { CareActionBar } from './action-bar.js';

define('care-action-bar', CareActionBar);

const names = (el: CareActionBar) =>
  [...el.shadowRoot!.querySelectorAll('button')].map((b) => b.textContent!.trim());

describe('care-action-bar', () => {
  it('offers the three actions with their exact accessible names', async () => {
    const el = await fixture<CareActionBar>(html`<care-action-bar .features=${['sms', 'voice', 'video']}></care-action-bar>`);
    expect(names(el)).to.deep.equal(['Send SMS', 'Make Call', 'Video Call']);
    for (const button of el.shadowRoot!.querySelectorAll('button')) {
      expect(button.querySelector('svg')!.getAttribute('aria-hidden')).to.equal('true');
    }
    await expect(el).to.be.accessible();
  });

  it('shows only what the session enables, loading it from the client when alone', async () => {
    const server = new FakeServer({ session: { ...session, features: ['sms', 'video'] } });
    const el = await fixture<CareActionBar>(html`<care-action-bar .client=${server.client()}></care-action-bar>`);
    await waitUntil(() => names(el).length > 0, 'session loaded');
    expect(names(el)).to.deep.equal(['Send SMS', 'Video Call']);
  });

  it('fires care-action from the keyboard', async () => {
    const el = await fixture<CareActionBar>(html`<care-action-bar .features=${['sms', 'voice', 'video']}></care-action-bar>`);
    const actions: Feature[] = [];
    el.addEventListener('care-action', (e) => actions.push(e.action));
    el.shadowRoot!.querySelector<HTMLButtonElement>('button')!.focus();
    await sendKeys({ press: 'Enter' });
    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'Space' });
    await sendKeys({ press: 'Tab' });
    const last = oneEvent(el, 'care-action');
    await sendKeys({ press: 'Enter' });
    await last;
    expect(actions).to.deep.equal(['sms', 'voice', 'video']);
  });

  it('shows slotted heading content', async () => {
    const el = await fixture<CareActionBar>(html`<care-action-bar .features=${[]}><h2>Communications</h2></care-action-bar>`);
    expect(el.shadowRoot!.querySelector('slot')!.assignedElements()[0]!.textContent).to.equal('Communications');
    expect(names(el)).to.deep.equal([]);
  });
});
