import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { action } from 'storybook/actions';
import { expect, waitFor } from 'storybook/test';
import type { CareClient } from '@carecomms/sdk';
import { CareDialog } from '../dialog/dialog.js';
import { define } from '../lazy.js';
import { CarePatientPicker } from '../patient-picker/patient-picker.js';
import { FakeServer, type FakeServerOptions } from '../test-fixtures/fake-server.js';
import { patientControl } from '../test-fixtures/story-controls.js';
import { CareCallDialog } from './call-dialog.js';

define('care-dialog', CareDialog);
define('care-patient-picker', CarePatientPicker);
define('care-call-dialog', CareCallDialog);

interface CallDialogArgs {
  patientId: string;
  open: boolean;
}

/** Starting a phone call with a patient, against the element tests' fake server. */
const meta = {
  title: 'Elements/Call dialog',
  component: 'care-call-dialog',
  args: { patientId: '', open: true },
  argTypes: {
    patientId: patientControl,
  },
  parameters: {
    layout: 'fullscreen',
    docs: { story: { inline: false, iframeHeight: 520 } },
    fakeServer: {} satisfies FakeServerOptions,
  },
  loaders: [
    ({ parameters }) => ({ client: new FakeServer(parameters['fakeServer'] as FakeServerOptions).client() }),
  ],
  render: (args, { loaded }) =>
    html`<care-call-dialog
        .client=${loaded['client'] as CareClient}
        patient-id=${args.patientId}
        ?open=${args.open}
        @care-close=${() => action('care-close')()}
      ></care-call-dialog>
      <button type="button" style="margin: 1rem" @click=${(e: Event) => ((e.target as Element).previousElementSibling as CareCallDialog).show()}>
        Make Call
      </button>`,
} satisfies Meta<CallDialogArgs>;

export default meta;
type Story = StoryObj<CallDialogArgs>;

/** Opened with no patient in context. */
export const Open: Story = {};

/** Opened from a patient's chart: the patient is already chosen. */
export const Preselected: Story = {
  args: { patientId: 'pat-1' },
  play: async ({ canvasElement }) => {
    const el = canvasElement.querySelector('care-call-dialog')!;
    const picker = el.shadowRoot!.querySelector<CarePatientPicker>('care-patient-picker')!;
    await waitFor(() => expect(picker.patient?.id).toBe('pat-1'));
  },
};
