import { html } from 'lit';
import { localized, msg } from '@lit/localize';
import { videoIcon } from '../icons.js';
import { PatientActionDialog } from '../internal/patient-action-dialog.js';

/**
 * @tagname care-video-dialog
 * @summary Start a video visit with a patient. For now it lets the practitioner
 * choose the patient; creating the room and the join link arrives with the
 * video issue.
 *
 * @csspart dialog - The `<care-dialog>`; its own parts are exported as `dialog-*`.
 * @csspart picker - The `<care-patient-picker>`.
 * @csspart notice - The availability notice.
 * @csspart start-button - The Start video call button.
 *
 * @fires care-request-close - From the inner dialog (composed); cancel it to keep the dialog open.
 * @fires care-close - The dialog closed.
 */
@localized()
export class CareVideoDialog extends PatientActionDialog {
  protected get label() {
    return msg('Video Call');
  }

  protected get unavailableText() {
    return msg('Video visits cannot be started from CareComms on this server yet.');
  }

  protected renderStartButton() {
    return html`<button slot="footer" class="button primary" part="start-button" type="button" disabled>
      ${videoIcon}${msg('Start video call')}
    </button>`;
  }
}
