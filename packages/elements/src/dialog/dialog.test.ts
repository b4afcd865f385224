import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { sendKeys, sendMouse, setViewport } from '@web/test-runner-commands';
import { define } from '../lazy.js';
import { animationsDone, deepActiveElement } from '../test-fixtures/helpers.js';
import { CareDialog } from './dialog.js';

define('care-dialog', CareDialog);

async function setup() {
  const root = await fixture<HTMLDivElement>(html`<div>
    <button id="opener">Open</button>
    <care-dialog label="Send SMS">
      <p>Body text</p>
      <input id="first" autofocus aria-label="First field" />
      <button slot="footer" id="ok">OK</button>
    </care-dialog>
  </div>`);
  const opener = root.querySelector<HTMLButtonElement>('#opener')!;
  const dialog = root.querySelector<CareDialog>('care-dialog')!;
  opener.focus();
  opener.addEventListener('click', () => dialog.show());
  return { root, opener, dialog, native: () => dialog.shadowRoot!.querySelector('dialog')! };
}

async function openWithKeyboard(opener: HTMLButtonElement, dialog: CareDialog) {
  opener.focus();
  await sendKeys({ press: 'Enter' });
  await dialog.updateComplete;
}

describe('care-dialog', () => {
  afterEach(() => setViewport({ width: 1280, height: 800 }));

  it('opens modally, labelled by its title, with focus on the autofocus element', async () => {
    const { opener, dialog, native } = await setup();
    await openWithKeyboard(opener, dialog);
    expect(native().open).to.be.true;
    expect(native().matches(':modal')).to.be.true;
    const title = dialog.shadowRoot!.getElementById(native().getAttribute('aria-labelledby')!)!;
    expect(title.textContent).to.equal('Send SMS');
    expect(deepActiveElement()?.id).to.equal('first');
    await animationsDone();
    await expect(dialog).to.be.accessible();
  });

  it('closes on ESC and returns focus to the opener', async () => {
    const { opener, dialog, native } = await setup();
    await openWithKeyboard(opener, dialog);
    const closed = oneEvent(dialog, 'care-close');
    await sendKeys({ press: 'Escape' });
    await closed;
    expect(native().open).to.be.false;
    expect(dialog.open).to.be.false;
    expect(document.activeElement === opener, 'focus back on the opener').to.be.true;
  });

  it('closes on a backdrop click but not on a click inside', async () => {
    const { opener, dialog, native } = await setup();
    await openWithKeyboard(opener, dialog);
    const box = native().getBoundingClientRect();
    await sendMouse({ type: 'click', position: [Math.round(box.left + 40), Math.round(box.top + 80)] });
    expect(native().open, 'inside click keeps it open').to.be.true;

    const requests: string[] = [];
    dialog.addEventListener('care-request-close', (e) => requests.push(e.source));
    await sendMouse({ type: 'click', position: [5, 5] });
    await dialog.updateComplete;
    expect(native().open).to.be.false;
    expect(requests).to.deep.equal(['backdrop']);
    expect(document.activeElement === opener, 'focus back on the opener').to.be.true;
  });

  it('stays open when care-request-close is cancelled', async () => {
    const { opener, dialog, native } = await setup();
    await openWithKeyboard(opener, dialog);
    let asked = 0;
    dialog.addEventListener('care-request-close', (e) => {
      asked += 1;
      e.preventDefault();
    });
    await sendKeys({ press: 'Escape' });
    await sendKeys({ press: 'Escape' });
    dialog.shadowRoot!.querySelector<HTMLButtonElement>('.close')!.click();
    await dialog.updateComplete;
    expect(asked).to.equal(3);
    expect(native().open).to.be.true;
  });

  it('has a labelled close button that closes it', async () => {
    const { opener, dialog, native } = await setup();
    await openWithKeyboard(opener, dialog);
    const close = dialog.shadowRoot!.querySelector<HTMLButtonElement>('.close')!;
    expect(close.getAttribute('aria-label')).to.equal('Close');
    close.focus();
    await sendKeys({ press: 'Enter' });
    await dialog.updateComplete;
    expect(native().open).to.be.false;
  });

  it('keeps Tab inside the modal', async () => {
    const { opener, dialog } = await setup();
    await openWithKeyboard(opener, dialog);
    for (let i = 0; i < 6; i += 1) {
      await sendKeys({ press: 'Tab' });
      const active = deepActiveElement();
      expect(active === opener, 'focus never reaches the page behind').to.be.false;
    }
  });

  it('becomes a full-screen sheet on a phone', async () => {
    await setViewport({ width: 375, height: 700 });
    const { opener, dialog, native } = await setup();
    await openWithKeyboard(opener, dialog);
    const box = native().getBoundingClientRect();
    expect(box.width).to.equal(375);
    expect(box.height).to.equal(700);
  });
});
