import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { action } from 'storybook/actions';
import { expect, waitFor } from 'storybook/test';
import type { Channel } from '@carecomms/core';
import type { CareClient } from '@carecomms/sdk';
import type { CareFilterChangeEvent } from '../events.js';
import { define } from '../lazy.js';
import { makeEntries } from '../test-fixtures/data.js';
import { FakeServer, type FakeServerOptions } from '../test-fixtures/fake-server.js';
import { CareCorrespondenceList, PLAIN_ROWS } from './correspondence-list.js';

define('care-correspondence-list', CareCorrespondenceList);

interface ListArgs {
  patientId: string;
  channel: Channel | '';
  pageSize: number;
}

/** The same in-memory API the tests use; `parameters.fakeServer` picks the scenario. */
const serverOf = ({ loaded }: { loaded: Record<string, unknown> }) => loaded['server'] as FakeServer;
const rowsOf = (canvas: HTMLElement) => [
  ...canvas.querySelector('care-correspondence-list')!.shadowRoot!.querySelectorAll<HTMLElement>('[role="listitem"]'),
];

const meta = {
  title: 'Elements/Correspondence list',
  component: 'care-correspondence-list',
  args: { patientId: '', channel: '', pageSize: 30 },
  argTypes: {
    channel: { control: { type: 'inline-radio', labels: { '': 'All' } }, options: ['', 'sms', 'email', 'voice', 'video'] },
  },
  parameters: { fakeServer: {} satisfies FakeServerOptions },
  loaders: [
    ({ parameters }) => {
      const server = new FakeServer(parameters['fakeServer'] as FakeServerOptions);
      return { server, client: server.client() };
    },
  ],
  // A scrolling frame like a host page's panel, as in the tests: the list
  // virtualises against its nearest scrolling ancestor.
  render: (args, { loaded }) =>
    html`<div style="height: 560px; max-width: 760px; overflow: auto">
      <care-correspondence-list
        .client=${loaded['client'] as CareClient}
        .patientId=${args.patientId}
        .channel=${args.channel}
        .pageSize=${args.pageSize}
        @care-filter-change=${(e: CareFilterChangeEvent) => action('care-filter-change')(e.channel)}
      ></care-correspondence-list>
    </div>`,
} satisfies Meta<ListArgs>;

export default meta;
type Story = StoryObj<ListArgs>;

/** Twelve entries across every channel, several patients, newest first. */
export const Loaded: Story = {
  play: async ({ canvasElement }) => {
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(12));
  },
};

/** Nothing has happened with this practitioner's patients yet. */
export const Empty: Story = {
  parameters: { fakeServer: { entries: [] } },
};

/** The first page has not arrived: skeleton rows and a status for screen readers. */
export const Loading: Story = {
  parameters: { fakeServer: { hang: ['GET /api/v1/correspondence'] } },
};

/** The server failed; "Try again" reloads. */
export const LoadError: Story = {
  name: 'Error',
  parameters: { fakeServer: { failures: { 'GET /api/v1/correspondence': 500 } } },
};

/** Filtered to one channel (the server does the filtering). */
export const Filtered: Story = {
  args: { channel: 'sms' },
  play: async ({ canvasElement }) => {
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(3));
    for (const row of rowsOf(canvasElement)) await expect(row.querySelector('.badge.sms')).not.toBeNull();
  },
};

/** One patient's chart: no patient names on the rows. */
export const OnePatient: Story = {
  name: 'One patient',
  args: { patientId: 'pat-2' },
};

/**
 * 10,000 entries, fetched 200 at a time with the keyset cursor as you scroll;
 * the first 100 rows are plain DOM, past them only the rows in view are.
 */
export const LongHistory: Story = {
  name: 'Long history (virtualised)',
  args: { pageSize: 200 },
  parameters: { fakeServer: { entries: makeEntries(10_000) } },
  play: async ({ canvasElement }) => {
    await waitFor(() => expect(rowsOf(canvasElement).length).toBeGreaterThanOrEqual(PLAIN_ROWS));
    await expect(rowsOf(canvasElement).length).toBeLessThan(PLAIN_ROWS + 60);
  },
};

/** A reply arrives over the event stream and is inserted without a reload. */
export const LiveInsert: Story = {
  name: 'Live insert',
  play: async (context) => {
    const server = serverOf(context);
    await waitFor(() => expect(rowsOf(context.canvasElement)).toHaveLength(12));
    await waitFor(() => expect(server.listeners).toBe(1));
    server.receive({ body: 'Running 10 minutes late, sorry!' });
    await waitFor(() => expect(rowsOf(context.canvasElement)[0]!.textContent).toContain('Running 10 minutes late'));
  },
};

/** The host page is dark: the tokens follow its `color-scheme`. */
export const Dark: Story = {
  name: 'Dark theme',
  globals: { theme: 'dark' },
};
