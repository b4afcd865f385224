import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { expect, waitFor } from 'storybook/test';
import { CareDialog } from '../dialog/dialog.js';
import { define } from '../lazy.js';
import { CarePatientPicker } from '../patient-picker/patient-picker.js';
import type { FakeServerOptions } from '../test-fixtures/fake-server.js';
import { patientDialogStory, type PatientDialogArgs } from '../test-fixtures/story-controls.js';
import { CareSmsDialog } from './sms-dialog.js';

define('care-dialog', CareDialog);
define('care-patient-picker', CarePatientPicker);
define('care-sms-dialog', CareSmsDialog);

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
  ...patientDialogStory('care-sms-dialog', { button: 'Send SMS', iframeHeight: 640, events: ['care-sms-sent'] }),
} satisfies Meta<PatientDialogArgs>;

export default meta;
type Story = StoryObj<PatientDialogArgs>;

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
