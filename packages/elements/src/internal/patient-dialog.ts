import { LitElement } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { consume } from '@lit/context';
import type { Patient } from '@carecomms/core';
import type { CareClient } from '@carecomms/sdk';
import { careClientContext } from '../context.js';
import type { CareDialog } from '../dialog/dialog.js';

/**
 * What the SMS, call and video dialogs share: the client from `<care-comms>`,
 * the patient they are for, and being shown or hidden through `open`.
 */
export abstract class PatientDialogElement extends LitElement {
  /** The API client; provided by `<care-comms>` when inside one. */
  @consume({ context: careClientContext, subscribe: true })
  @property({ attribute: false })
  client?: CareClient;

  /** Patient to preselect. */
  @property({ attribute: 'patient-id' }) patientId = '';

  /** Whether the dialog is shown. */
  @property({ type: Boolean, reflect: true }) open = false;

  /** The patient chosen in the dialog's picker. */
  @state() protected patient: Patient | null = null;

  @query('care-dialog') protected dialog!: CareDialog;

  /** Opens the dialog. */
  show(): void {
    this.open = true;
  }

  /** Closes the dialog. */
  hide(): void {
    this.open = false;
  }
}
