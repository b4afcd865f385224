import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { action } from 'storybook/actions';
import { expect, waitFor } from 'storybook/test';
import type { CareClient } from '@carecomms/sdk';
import '../define.js';
import type { CareActionEvent } from '../events.js';
import type { CareSmsSentEvent } from '../dialog-events.js';
import { session } from '../test-fixtures/data.js';
import { FakeServer, type FakeServerOptions } from '../test-fixtures/fake-server.js';
import { patientControl } from '../test-fixtures/story-controls.js';
import type { CareComms } from './comms.js';

interface CommsArgs {
  patientId: string;
  locale: string;
  theme: CareComms['theme'];
}

const commsOf = (canvas: HTMLElement) => canvas.querySelector<CareComms>('care-comms')!;
const serverOf = ({ loaded }: { loaded: Record<string, unknown> }) => loaded['server'] as FakeServer;
const rowsOf = (canvas: HTMLElement) => {
  const list = commsOf(canvas).shadowRoot!.querySelector('care-correspondence-list')!;
  return [...list.shadowRoot!.querySelectorAll('[role="listitem"]')];
};
const actionButtons = (canvas: HTMLElement) => {
  const bar = commsOf(canvas).shadowRoot!.querySelector('care-action-bar')!;
  return [...(bar.shadowRoot?.querySelectorAll('button') ?? [])];
};

/**
 * The whole widget as a host page embeds it (`@carecomms/elements/define`),
 * talking to the element tests' fake server: session, patients, history,
 * sending, and a live event stream.
 */
const meta = {
  title: 'Elements/Care comms',
  component: 'care-comms',
  args: { patientId: '', locale: '', theme: '' },
  argTypes: {
    patientId: patientControl,
    locale: { control: { type: 'inline-radio', labels: { '': 'page' } }, options: ['', 'en', 'es'] },
    theme: { control: { type: 'inline-radio', labels: { '': 'page' } }, options: ['', 'light', 'dark', 'auto'] },
  },
  parameters: {
    layout: 'padded',
    docs: { story: { inline: false, iframeHeight: 720 } },
    fakeServer: {} satisfies FakeServerOptions,
  },
  loaders: [
    ({ parameters }) => {
      const server = new FakeServer(parameters['fakeServer'] as FakeServerOptions);
      return { server, client: server.client() };
    },
  ],
  render: (args, { loaded }) =>
    html`<div style="max-width: 960px">
      <care-comms
        .client=${loaded['client'] as CareClient}
        patient-id=${args.patientId}
        locale=${args.locale}
        theme=${args.theme}
        @care-action=${(e: CareActionEvent) => action('care-action')(e.action)}
        @care-sms-sent=${(e: CareSmsSentEvent) => action('care-sms-sent')(e.entry)}
      ></care-comms>
    </div>`,
} satisfies Meta<CommsArgs>;

export default meta;
type Story = StoryObj<CommsArgs>;

/** Every practitioner's patient: bar, live list across patients, dialogs on demand. */
export const FullWidget: Story = {
  name: 'Full widget',
  play: async ({ canvasElement }) => {
    await waitFor(() => expect(actionButtons(canvasElement)).toHaveLength(3));
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(12));
  },
};

/** Embedded in one patient's chart (`patient-id`): their history only, and the dialogs preselect them. */
export const PatientChart: Story = {
  name: 'Patient chart',
  args: { patientId: 'pat-1' },
};

/** A live reply from the patient arrives while the practitioner watches. */
export const LiveReply: Story = {
  name: 'Live reply',
  args: { patientId: 'pat-1' },
  play: async (context) => {
    const server = serverOf(context);
    await waitFor(() => expect(rowsOf(context.canvasElement).length).toBeGreaterThan(0));
    await waitFor(() => expect(server.listeners).toBeGreaterThan(0));
    server.receive({ body: 'Thanks, see you at 9:30!' });
    await waitFor(() => expect(rowsOf(context.canvasElement)[0]!.textContent).toContain('see you at 9:30'));
  },
};

/** Send SMS pressed from a patient's chart. */
export const SmsDialogOpen: Story = {
  name: 'SMS dialog open',
  args: { patientId: 'pat-1' },
  play: async ({ canvasElement }) => {
    await commsOf(canvasElement).openAction('sms');
    const dialog = commsOf(canvasElement).shadowRoot!.querySelector('care-sms-dialog')!;
    await waitFor(() => expect(dialog.shadowRoot?.querySelector('care-dialog')?.hasAttribute('open')).toBe(true));
  },
};

/** A server with SMS only: the call and video actions are hidden. */
export const SmsOnly: Story = {
  name: 'SMS only',
  parameters: { fakeServer: { session: { ...session, features: ['sms'] } } satisfies FakeServerOptions },
  play: async ({ canvasElement }) => {
    await waitFor(() => expect(actionButtons(canvasElement)).toHaveLength(1));
  },
};

/** `theme="dark"` forces the dark tokens whatever the host page does. */
export const Dark: Story = {
  name: 'Dark theme',
  args: { theme: 'dark' },
  globals: { theme: 'dark' },
};

/** `locale="es"`: every string through @lit/localize. */
export const Spanish: Story = {
  name: 'Spanish',
  args: { locale: 'es' },
  play: async ({ canvasElement }) => {
    await waitFor(() => expect(actionButtons(canvasElement).map((b) => b.textContent!.trim())).toContain('Enviar SMS'));
  },
};

/** The session token was rejected: the widget says so and offers a retry. */
export const SessionExpired: Story = {
  name: 'Session expired',
  parameters: { fakeServer: { failures: { 'GET /api/v1/session': 401 } } satisfies FakeServerOptions },
  play: async ({ canvasElement }) => {
    await waitFor(() => expect(commsOf(canvasElement).shadowRoot!.querySelector('[part="error"]')).not.toBeNull());
  },
};

/** 375 px wide, as on a phone: the layout follows its own width (container queries), not the window's. */
export const Phone: Story = {
  decorators: [(story) => html`<div style="width: 375px; outline: 1px dashed GrayText">${story()}</div>`],
};
