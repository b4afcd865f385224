import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { action } from 'storybook/actions';
import { expect, waitFor } from 'storybook/test';
import type { CareClient } from '@carecomms/sdk';
import type { CarePatientChangeEvent } from '../dialog-events.js';
import { define } from '../lazy.js';
import { FakeServer, type FakeServerOptions } from '../test-fixtures/fake-server.js';
import { patientControl } from '../test-fixtures/story-controls.js';
import { CarePatientPicker } from './patient-picker.js';

define('care-patient-picker', CarePatientPicker);

interface PickerArgs {
  value: string;
  label: string;
}

const pickerOf = (canvas: HTMLElement) => canvas.querySelector<CarePatientPicker>('care-patient-picker')!;
const optionsOf = (canvas: HTMLElement) => [...pickerOf(canvas).shadowRoot!.querySelectorAll('[role="option"]')];

/** Types into the search box as a user would: focus, value, `input`. */
function search(canvas: HTMLElement, text: string): void {
  const input = pickerOf(canvas).shadowRoot!.querySelector('input')!;
  input.focus();
  input.value = text;
  input.dispatchEvent(new InputEvent('input', { bubbles: true, composed: true }));
}

const meta = {
  title: 'Elements/Patient picker',
  component: 'care-patient-picker',
  args: { value: '', label: '' },
  argTypes: {
    value: patientControl,
  },
  parameters: { fakeServer: {} satisfies FakeServerOptions },
  loaders: [
    ({ parameters }) => ({ client: new FakeServer(parameters['fakeServer'] as FakeServerOptions).client() }),
  ],
  // Room below the field for the list of matches.
  render: (args, { loaded }) =>
    html`<div style="max-width: 420px; min-height: 340px">
      <care-patient-picker
        .client=${loaded['client'] as CareClient}
        .value=${args.value}
        label=${args.label}
        @care-patient-change=${(e: CarePatientChangeEvent) => action('care-patient-change')(e.patient)}
      ></care-patient-picker>
    </div>`,
} satisfies Meta<PickerArgs>;

export default meta;
type Story = StoryObj<PickerArgs>;

/** Nothing chosen yet. */
export const Default: Story = {};

/** A patient chosen in advance (`value`), with their formatted phone number. */
export const Preselected: Story = {
  args: { value: 'pat-1' },
  play: async ({ canvasElement }) => {
    await waitFor(() => expect(pickerOf(canvasElement).shadowRoot!.querySelector('[part="phone"]')).not.toBeNull());
  },
};

/** The patient texted STOP: marked as opted out of SMS. */
export const OptedOut: Story = {
  name: 'Opted out',
  args: { value: 'pat-3' },
  play: async ({ canvasElement }) => {
    await waitFor(() => expect(pickerOf(canvasElement).shadowRoot!.querySelector('[part="opted-out"]')).not.toBeNull());
  },
};

/** No mobile number on file. */
export const NoPhone: Story = {
  name: 'No phone',
  args: { value: 'pat-4' },
};

/** Searching "e": three matches, the first active; opted-out and phoneless patients are marked. */
export const SearchResults: Story = {
  name: 'Search results',
  play: async ({ canvasElement }) => {
    search(canvasElement, 'e');
    await waitFor(() => expect(optionsOf(canvasElement)).toHaveLength(3));
  },
};

/** Nothing matches the search. */
export const NoMatches: Story = {
  name: 'No matches',
  play: async ({ canvasElement }) => {
    search(canvasElement, 'zzz');
    await waitFor(() =>
      expect(pickerOf(canvasElement).shadowRoot!.querySelector('.hint')?.textContent).toBe('No matching patients'),
    );
  },
};

/** The patient search failed on the server. */
export const SearchError: Story = {
  name: 'Search error',
  parameters: { fakeServer: { failures: { 'GET /api/v1/patients': 500 } } satisfies FakeServerOptions },
  play: async ({ canvasElement }) => {
    search(canvasElement, 'a');
    await waitFor(() =>
      expect(pickerOf(canvasElement).shadowRoot!.querySelector('.hint')?.textContent).toBe(
        'Patients could not be loaded. Try again.',
      ),
    );
  },
};
