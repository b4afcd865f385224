import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { action } from 'storybook/actions';
import { expect, waitFor } from 'storybook/test';
import type { CareClient } from '@carecomms/sdk';
import { CareDialog } from '../dialog/dialog.js';
import type { CareSmsSentEvent } from '../events.js';
import { define } from '../lazy.js';
import { CarePatientPicker } from '../patient-picker/patient-picker.js';
import { FakeServer, type FakeServerOptions } from '../test-fixtures/fake-server.js';
import { patientControl } from '../test-fixtures/story-controls.js';
import { CareSmsDialog } from './sms-dialog.js';

define('care-dialog', CareDialog);
define('care-patient-picker', CarePatientPicker);
define('care-sms-dialog', CareSmsDialog);

interface SmsDialogArgs {
  patientId: string;
  open: boolean;
}

const dialogOf = (canvas: HTMLElement) => canvas.querySelector<CareSmsDialog>('care-sms-dialog')!;
const part = (canvas: HTMLElement, name: string) => dialogOf(canvas).shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`);

/** Waits for the preselected patient, then types `text` into the message box. */
async function compose(canvas: HTMLElement, text: string): Promise<void> {
  const el = dialogOf(canvas);
  const picker = el.shadowRoot!.querySelector<CarePatientPicker>('care-patient-picker')!;
  await waitFor(() => expect(picker.patient).not.toBeNull());
  const textarea = el.shadowRoot!.querySelector('textarea')!;
  textarea.value = text;
  textarea.dispatchEvent(new InputEvent('input'));
  await el.updateComplete;
}

async function composeAndSend(canvas: HTMLElement, text: string): Promise<void> {
  await compose(canvas, text);
  part(canvas, 'send-button')!.click();
}

const meta = {
  title: 'Elements/SMS dialog',
  component: 'care-sms-dialog',
  args: { patientId: '', open: true },
  argTypes: {
    patientId: patientControl,
  },
  parameters: {
    layout: 'fullscreen',
    docs: { story: { inline: false, iframeHeight: 640 } },
    fakeServer: {} satisfies FakeServerOptions,
  },
  loaders: [
    ({ parameters }) => ({ client: new FakeServer(parameters['fakeServer'] as FakeServerOptions).client() }),
  ],
  render: (args, { loaded }) =>
    html`<care-sms-dialog
        .client=${loaded['client'] as CareClient}
        patient-id=${args.patientId}
        ?open=${args.open}
        @care-sms-sent=${(e: CareSmsSentEvent) => action('care-sms-sent')(e.entry)}
        @care-close=${() => action('care-close')()}
      ></care-sms-dialog>
      <button type="button" style="margin: 1rem" @click=${(e: Event) => ((e.target as Element).previousElementSibling as CareSmsDialog).show()}>
        Send SMS
      </button>`,
} satisfies Meta<SmsDialogArgs>;

export default meta;
type Story = StoryObj<SmsDialogArgs>;

/** Opened from the bar with no patient in context: search for one first. */
export const Open: Story = {};

/** Opened from a patient's chart: the patient is chosen and their number shown. */
export const Preselected: Story = {
  args: { patientId: 'pat-1' },
  play: async ({ canvasElement }) => {
    await compose(canvasElement, 'Hi Aroha, your results are back and look normal.');
    await expect(part(canvasElement, 'counter')!.textContent).toContain('1 SMS segment');
  },
};

/** An em dash and an emoji force UCS-2: 70 characters a segment, and the dialog says why. */
export const UnicodeWarning: Story = {
  name: 'UCS-2 warning',
  args: { patientId: 'pat-1' },
  play: async ({ canvasElement }) => {
    await compose(canvasElement, 'Thanks — see you soon 🙂 ' + 'x'.repeat(60));
    await expect(dialogOf(canvasElement).shadowRoot!.querySelector('.message.warning')!.textContent).toContain(
      '70 characters instead of 160',
    );
  },
};

/** The patient texted STOP: the message box and Send are disabled, with the way back (START). */
export const OptedOut: Story = {
  name: 'Opted out',
  args: { patientId: 'pat-3' },
  play: async ({ canvasElement }) => {
    await waitFor(() => expect(dialogOf(canvasElement).shadowRoot!.querySelector('[role="alert"]')).not.toBeNull());
  },
};

/** No mobile number on file. */
export const NoPhone: Story = {
  name: 'No phone',
  args: { patientId: 'pat-4' },
};

/** The server is waiting on the provider: Send shows progress and the text is read-only. */
export const Sending: Story = {
  args: { patientId: 'pat-1' },
  parameters: { fakeServer: { hang: ['POST /api/v1/patients/pat-1/messages'] } satisfies FakeServerOptions },
  play: async ({ canvasElement }) => {
    await composeAndSend(canvasElement, 'Your repeat script is ready to collect.');
    await waitFor(() => expect(part(canvasElement, 'send-button')!.getAttribute('aria-busy')).toBe('true'));
  },
};

/** Sending failed: the reason in plain language; Send again reuses the idempotency key. */
export const SendError: Story = {
  name: 'Error',
  args: { patientId: 'pat-2' },
  parameters: { fakeServer: { failures: { 'POST /api/v1/patients/pat-2/messages': 503 } } satisfies FakeServerOptions },
  play: async ({ canvasElement }) => {
    await composeAndSend(canvasElement, 'Hello Ben, please call the clinic.');
    await waitFor(() => expect(part(canvasElement, 'error')!.textContent).toContain('Something went wrong on the server.'));
  },
};

/** The network is down. */
export const Offline: Story = {
  args: { patientId: 'pat-2' },
  parameters: { fakeServer: { failures: { 'POST /api/v1/patients/pat-2/messages': 0 } } satisfies FakeServerOptions },
  play: async ({ canvasElement }) => {
    await composeAndSend(canvasElement, 'Hello Ben, please call the clinic.');
    await waitFor(() => expect(part(canvasElement, 'error')!.textContent).toContain('could not be reached'));
  },
};

/** Accepted by the server: the confirmation, with Done focused. */
export const Success: Story = {
  args: { patientId: 'pat-1' },
  play: async ({ canvasElement }) => {
    await composeAndSend(canvasElement, 'See you at 9:30 tomorrow.');
    await waitFor(() => expect(part(canvasElement, 'confirmation')!.textContent).toContain('Message sent to Aroha Ngata'));
  },
};
