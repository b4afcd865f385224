import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { expect, waitFor } from 'storybook/test';
import { CareDialog } from '../dialog/dialog.js';
import { define } from '../lazy.js';
import { CarePatientPicker } from '../patient-picker/patient-picker.js';
import { patientDialogStory, type PatientDialogArgs } from '../test-fixtures/story-controls.js';
import { CareCallDialog } from './call-dialog.js';

define('care-dialog', CareDialog);
define('care-patient-picker', CarePatientPicker);
define('care-call-dialog', CareCallDialog);

/** Starting a phone call with a patient, against the element tests' fake server. */
const meta = {
  title: 'Elements/Call dialog',
  component: 'care-call-dialog',
  ...patientDialogStory('care-call-dialog', { button: 'Make Call', iframeHeight: 520 }),
} satisfies Meta<PatientDialogArgs>;

export default meta;
type Story = StoryObj<PatientDialogArgs>;

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
