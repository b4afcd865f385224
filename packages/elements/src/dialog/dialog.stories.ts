import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { action } from 'storybook/actions';
import { expect } from 'storybook/test';
import type { CareRequestCloseEvent } from '../dialog-events.js';
import { define } from '../lazy.js';
import { CareDialog } from './dialog.js';

define('care-dialog', CareDialog);

interface DialogArgs {
  label: string;
  open: boolean;
  /** Cancel every `care-request-close`, as a dialog with a live call does. */
  vetoClose: boolean;
  paragraphs: number;
}

const logClose = action('care-close');

const meta = {
  title: 'Elements/Dialog',
  component: 'care-dialog',
  args: { label: 'Send SMS', open: true, vetoClose: false, paragraphs: 1 },
  argTypes: {
    vetoClose: { control: 'boolean' },
    paragraphs: { control: { type: 'range', min: 0, max: 40 } },
  },
  parameters: {
    layout: 'fullscreen',
    // Modal dialogs each need a page of their own on the docs page.
    docs: { story: { inline: false, iframeHeight: 480 } },
  },
  render: (args) => {
    const onRequestClose = (event: CareRequestCloseEvent) => {
      action('care-request-close')(event.source);
      if (args.vetoClose) event.preventDefault();
    };
    return html`<care-dialog
        label=${args.label}
        ?open=${args.open}
        @care-request-close=${onRequestClose}
        @care-close=${() => logClose()}
      >
        <p>The dialog's content goes in the default slot.</p>
        ${Array.from(
          { length: args.paragraphs - 1 },
          (_, i) => html`<p>Paragraph ${i + 2}: long content scrolls inside the dialog while the title and footer stay put.</p>`,
        )}
        <label>Note <input autofocus /></label>
        <button slot="footer" type="button">Cancel</button>
        <button slot="footer" type="button">Save</button>
      </care-dialog>
      <button type="button" style="margin: 1rem" @click=${(e: Event) => ((e.target as Element).previousElementSibling as CareDialog).show()}>
        Open the dialog
      </button>`;
  },
} satisfies Meta<DialogArgs>;

export default meta;
type Story = StoryObj<DialogArgs>;

/** Open, modal, focus on the `autofocus` field; ESC, the backdrop or × close it. */
export const Open: Story = {
  play: async ({ canvasElement }) => {
    const dialog = canvasElement.querySelector('care-dialog')!.shadowRoot!.querySelector('dialog')!;
    await expect(dialog.matches(':modal')).toBe(true);
  },
};

/** More content than fits: the body scrolls. */
export const LongContent: Story = {
  name: 'Long content',
  args: { paragraphs: 30 },
};

/** Every close request is cancelled, so ESC, the backdrop and × leave it open (see the Actions panel). */
export const VetoedClose: Story = {
  name: 'Close vetoed',
  args: { vetoClose: true },
};

/** Closed; the button below opens it and focus returns there on close. */
export const Closed: Story = {
  args: { open: false },
};

/** On a phone (the toolbar's "Small mobile" viewport) it becomes a full-screen sheet. */
export const Phone: Story = {
  globals: { viewport: { value: 'mobile1', isRotated: false } },
};
