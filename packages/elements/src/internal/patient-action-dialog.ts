import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { property, state } from 'lit/decorators.js';
import { consume } from '@lit/context';
import type { Patient } from '@carecomms/core';
import type { CareClient } from '@carecomms/sdk';
import { careClientContext } from '../context.js';
import type { CarePatientChangeEvent } from '../events.js';
import { alertIcon } from '../icons.js';
import { base } from '../styles/shared.js';
import { tokens } from '../styles/tokens.js';

/**
 * Shared shell of the call and video dialogs until their own issues land: a
 * patient picker and a clear statement that this server cannot start the
 * session from the widget yet.
 */
export abstract class PatientActionDialog extends LitElement {
  static override styles = [
    tokens,
    base,
    css`
      :host {
        display: contents;
      }
      .content {
        display: grid;
        gap: 1.25rem;
      }
    `,
  ];

  /** The API client; provided by `<care-comms>` when inside one. */
  @consume({ context: careClientContext, subscribe: true })
  @property({ attribute: false })
  client?: CareClient;

  /** Patient to preselect. */
  @property({ attribute: 'patient-id' }) patientId = '';

  /** Whether the dialog is shown. */
  @property({ type: Boolean, reflect: true }) open = false;

  @state() protected patient: Patient | null = null;

  /** Opens the dialog. */
  show(): void {
    this.open = true;
  }

  /** Closes the dialog. */
  hide(): void {
    this.open = false;
  }

  protected abstract get label(): string;
  protected abstract get unavailableText(): string;
  protected abstract renderStartButton(): TemplateResult;

  override render() {
    return html`<care-dialog
      part="dialog"
      exportparts="dialog: dialog-dialog, header: dialog-header, title: dialog-title, close-button: dialog-close-button, body: dialog-body, footer: dialog-footer"
      label=${this.label}
      .open=${this.open}
      @care-close=${() => (this.open = false)}
    >
      <div class="content">
        <care-patient-picker
          part="picker"
          autofocus
          .client=${this.client}
          .value=${this.patientId}
          @care-patient-change=${(e: CarePatientChangeEvent) => (this.patient = e.patient)}
        ></care-patient-picker>
        ${this.patient
          ? html`<p class="message warning" part="notice">${alertIcon}<span>${this.unavailableText}</span></p>`
          : nothing}
      </div>
      ${this.renderStartButton()}
    </care-dialog>`;
  }
}
