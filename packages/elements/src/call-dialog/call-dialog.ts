import { html } from 'lit';
import { localized, msg } from '@lit/localize';
import { voiceIcon } from '../icons.js';
import { PatientActionDialog } from '../internal/patient-action-dialog.js';

/**
 * @tagname care-call-dialog
 * @summary Start a phone call with a patient. For now it lets the practitioner
 * choose the patient and see their number; placing the call from the browser
 * arrives with the voice issue.
 *
 * @csspart dialog - The `<care-dialog>`; its own parts are exported as `dialog-*`.
 * @csspart picker - The `<care-patient-picker>`.
 * @csspart notice - The availability notice.
 * @csspart start-button - The Start call button.
 *
 * @fires care-request-close - From the inner dialog (composed); cancel it to keep the dialog open.
 * @fires care-close - The dialog closed.
 */
@localized()
export class CareCallDialog extends PatientActionDialog {
  protected get label() {
    return msg('Make Call');
  }

  protected get unavailableText() {
    return msg('Calls cannot be started from CareComms on this server yet. Use your usual phone for now.');
  }

  protected renderStartButton() {
    return html`<button slot="footer" class="button primary" part="start-button" type="button" disabled>
      ${voiceIcon}${msg('Start call')}
    </button>`;
  }
}
