import { html } from 'lit';
import { action } from 'storybook/actions';
import type { CareClient } from '@carecomms/sdk';
import type { PatientDialogElement } from '../internal/patient-dialog.js';
import { patients } from './data.js';
import { FakeServer, type FakeServerOptions } from './fake-server.js';

/**
 * A Storybook control choosing one of the fixture patients, or none, by name:
 * the stories drive the elements with the same patients as the tests.
 */
export const patientControl = {
  control: {
    type: 'select' as const,
    labels: { '': '(none)', ...Object.fromEntries(patients.map((p) => [p.id, `${p.name} (${p.id})`])) },
  },
  options: ['', ...patients.map((p) => p.id)],
};

/** The arguments every patient dialog story takes. */
export interface PatientDialogArgs {
  patientId: string;
  open: boolean;
}

/**
 * What the SMS, call and video dialog stories share: the patient control, a
 * fresh fake server per story (`parameters.fakeServer` sets its options), the
 * dialog bound to the args with its events logged as actions, and a button
 * that opens it again once closed.
 */
export function patientDialogStory(tag: string, { button, iframeHeight, events = [] }: { button: string; iframeHeight: number; events?: string[] }) {
  return {
    args: { patientId: '', open: true },
    argTypes: { patientId: patientControl },
    parameters: {
      layout: 'fullscreen',
      docs: { story: { inline: false, iframeHeight } },
      fakeServer: {} satisfies FakeServerOptions,
    },
    loaders: [({ parameters }: { parameters: Record<string, unknown> }) => ({ client: new FakeServer(parameters['fakeServer'] as FakeServerOptions).client() })],
    render: (args: PatientDialogArgs, { loaded }: { loaded: Record<string, unknown> }) => {
      const dialog = document.createElement(tag) as PatientDialogElement;
      dialog.client = loaded['client'] as CareClient;
      dialog.patientId = args.patientId;
      dialog.open = args.open;
      for (const name of [...events, 'care-close']) dialog.addEventListener(name, (event) => action(name)(event));
      return html`${dialog}<button type="button" style="margin: 1rem" @click=${() => dialog.show()}>${button}</button>`;
    },
  };
}
