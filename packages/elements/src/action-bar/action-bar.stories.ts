import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html, nothing } from 'lit';
import { action } from 'storybook/actions';
import { expect, waitFor } from 'storybook/test';
import type { Feature } from '@carecomms/core';
import type { CareClient } from '@carecomms/sdk';
import type { CareActionEvent } from '../events.js';
import { define } from '../lazy.js';
import { session } from '../test-fixtures/data.js';
import { FakeServer, type FakeServerOptions } from '../test-fixtures/fake-server.js';
import { CareActionBar } from './action-bar.js';

define('care-action-bar', CareActionBar);

interface ActionBarArgs {
  /** `undefined` leaves the choice to the session, as inside `<care-comms>`. */
  features: Feature[] | undefined;
  heading: string;
}

const buttonNames = (canvas: HTMLElement) =>
  [...canvas.querySelector('care-action-bar')!.shadowRoot!.querySelectorAll('button')].map((b) => b.textContent!.trim());

const meta = {
  title: 'Elements/Action bar',
  component: 'care-action-bar',
  args: { features: ['sms', 'voice', 'video'], heading: 'Aroha Ngata · MRN-pat-1' },
  argTypes: {
    features: { control: 'check', options: ['sms', 'voice', 'video'] },
    heading: { control: 'text', description: 'Content of the default slot' },
  },
  parameters: { fakeServer: {} satisfies FakeServerOptions },
  loaders: [
    ({ parameters }) => ({ client: new FakeServer(parameters['fakeServer'] as FakeServerOptions).client() }),
  ],
  render: (args, { loaded }) =>
    html`<care-action-bar
      .client=${loaded['client'] as CareClient}
      .features=${args.features}
      @care-action=${(e: CareActionEvent) => action('care-action')(e.action)}
      >${args.heading ? html`<strong>${args.heading}</strong>` : nothing}</care-action-bar
    >`,
} satisfies Meta<ActionBarArgs>;

export default meta;
type Story = StoryObj<ActionBarArgs>;

/** Send SMS, Make Call and Video Call, with a heading in the slot. */
export const AllFeatures: Story = {
  name: 'All features',
  play: async ({ canvasElement }) => {
    await expect(buttonNames(canvasElement)).toEqual(['Send SMS', 'Make Call', 'Video Call']);
  },
};

/** A server with SMS only (no voice or video provider configured). */
export const SmsOnly: Story = {
  name: 'SMS only',
  args: { features: ['sms'] },
};

/** Alone with a client: the actions come from `GET /api/v1/session` (here SMS and video). */
export const FromSession: Story = {
  name: 'From the session',
  args: { features: undefined },
  parameters: { fakeServer: { session: { ...session, features: ['sms', 'video'] } } satisfies FakeServerOptions },
  play: async ({ canvasElement }) => {
    await waitFor(() => expect(buttonNames(canvasElement)).toEqual(['Send SMS', 'Video Call']));
  },
};

/** Nothing enabled: only the heading remains. */
export const NoActions: Story = {
  name: 'No actions',
  args: { features: [] },
};

/** On a dark host page. */
export const Dark: Story = {
  name: 'Dark theme',
  globals: { theme: 'dark' },
};
