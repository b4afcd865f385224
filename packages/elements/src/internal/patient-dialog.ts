import { LitElement, html } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { consume } from '@lit/context';
import type { Patient } from '@carecomms/core';
import type { CareClient } from '@carecomms/sdk';
import { careClientContext } from '../context.js';
import type { CareDialog } from '../dialog/dialog.js';
import type { CarePatientChangeEvent } from '../dialog-events.js';

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

  /** A patient was picked; subclasses also clear what belonged to the one before. */
  protected onPatientChange(event: CarePatientChangeEvent): void {
    this.patient = event.patient;
  }

  /** The patient picker, preselecting `patient-id`. */
  protected renderPicker() {
    return html`<care-patient-picker
      part="picker"
      exportparts="input: picker-input, option: picker-option, phone: picker-phone"
      autofocus
      .client=${this.client}
      .value=${this.patientId}
      @care-patient-change=${this.onPatientChange}
    ></care-patient-picker>`;
  }
}
