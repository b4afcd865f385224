import { html, nothing, type PropertyValues } from 'lit';
import { state } from 'lit/decorators.js';
import { localized, msg, str } from '@lit/localize';
import { countSmsSegments, type CorrespondenceEntry, type Patient } from '@carecomms/core';
import { CareApiError } from '@carecomms/sdk';
import { CareSmsSentEvent, type CarePatientChangeEvent } from '../dialog-events.js';
import { alertIcon, smsIcon } from '../icons.js';
import { checkIcon } from '../dialog-icons.js';
import { formatCount, PatientDialogElement } from '../internal/patient-dialog.js';
import { base } from '../styles/shared.js';
import { laterTokens, touchTargets, warningMessage } from '../styles/later.js';
import { tokens } from '../styles/tokens.js';
import { smsDialogStyles } from './sms-dialog.styles.js';

/**
 * Twilio's limit for one message body, in UTF-16 code units of the trimmed
 * body as sent; the server checks the same (`MAX_SMS_LENGTH` in
 * server/src/services/sms.ts).
 */
const MAX_LENGTH = 1600;

/** How long to wait after a 429 that does not say (the server's own `Retry-After` when it has none). */
const DEFAULT_RETRY_AFTER_SECONDS = 60;

/** How long before Send can be used again, after too many sends. */
function waitText(seconds: number): string {
  return seconds === 1
    ? msg('Too many messages were sent in a short time. You can send again in 1 second.')
    : msg(str`Too many messages were sent in a short time. You can send again in ${formatCount(seconds)} seconds.`);
}

/** A character as the practitioner can find it: spaces and other invisible ones (pasted from a word processor) by name. */
function nameCharacter(c: string): string {
  if (c === '\u00a0') return msg('non-breaking space');
  if (c === '\t') return msg('tab');
  return /^[\s\p{Cf}]$/u.test(c) ? msg(str`invisible character U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`) : c;
}

/**
 * @tagname care-sms-dialog
 * @summary Compose and send an SMS: choose a patient, see their number, type
 * with a live character and segment count (warning when Unicode shrinks
 * segments to 70 characters), send, and get a clear confirmation or reason for
 * failure. Patients who opted out cannot be texted.
 *
 * An unsent message is kept as a draft for its patient while the element
 * lives: closing and reopening the dialog, or choosing another patient and
 * coming back, shows it again. Drafts are held in memory only (they are
 * patient data), cleared once sent, and dropped when the client changes
 * (another practitioner's session).
 *
 * Uses `<care-dialog>` and `<care-patient-picker>`, which must be defined.
 *
 * @csspart dialog - The `<care-dialog>`; its own parts are exported as `dialog-*`.
 * @csspart picker - The `<care-patient-picker>`.
 * @csspart message - The message text area.
 * @csspart counter - The character and segment count.
 * @csspart error - The reason a send failed. After too many sends (a 429), it counts down the seconds until Send can be used again.
 * @csspart can-send - Says sending is possible again, once that countdown is over.
 * @csspart too-long - The error shown while the message is over the 1,600-character limit.
 * @csspart send-button - The Send SMS button.
 * @csspart confirmation - The "message sent" view.
 *
 * @cssproperty --care-color-primary - Send button.
 * @cssproperty --care-color-warning - Unicode and opt-out notices.
 *
 * @fires care-sms-sent - The server accepted the message; carries the new correspondence entry.
 * @fires care-request-close - From the inner dialog (composed); cancel it to keep the dialog open.
 * @fires care-close - The dialog closed.
 */
@localized()
export class CareSmsDialog extends PatientDialogElement {
  static override styles = [tokens, laterTokens, base, smsDialogStyles, touchTargets, warningMessage];

  @state() private body = '';
  @state() private sending = false;
  @state() private error: CareApiError | null = null;
  @state() private sent: CorrespondenceEntry | null = null;
  /**
   * Seconds left before the server takes another message, after it answered
   * 429 (too many sends); 0 when sending is allowed. Counts down once a
   * second, on screen only: assistive technology is told when the wait starts
   * (`waitFrom` seconds) and when it is over (`canSendAgain`), not every second.
   */
  @state() private waitSeconds = 0;
  @state() private waitFrom = 0;
  @state() private canSendAgain = false;
  /** When the wait is over (a `Date.now()` time); 0 when there is none. */
  private waitUntil = 0;
  private waitTimer: ReturnType<typeof setInterval> | null = null;

  /**
   * Reused while retrying the same message to the same patient, so a retry never sends twice.
   * Kept with the draft when the dialog closes: a send whose answer was lost may have gone out.
   */
  private idempotencyKey: string | null = null;

  /**
   * Unsent messages by patient id ('' for text typed before a patient is
   * chosen). In memory only, never in storage: they are patient data.
   */
  private readonly drafts = new Map<string, string>();

  /**
   * Whose draft the message box holds ('' for text not yet addressed to
   * anyone). It stays while the practitioner searches for a patient, so the
   * text is neither lost nor given to whoever is chosen next.
   */
  private draftFor = '';

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.waitUntil) this.startWaitTimer();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stopWaitTimer();
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('open') && this.open) {
      this.error = null;
      this.sent = null;
      this.canSendAgain = false;
    }
    // Another session (another practitioner signed in): what the last one was writing is not theirs to see or send.
    if (changed.has('client') && changed.get('client') !== undefined) {
      this.drafts.clear();
      this.showDraft('');
    }
    // The host moved to another patient, or to none: the last one's message is not shown meanwhile.
    if (changed.has('patientId')) this.showDraft('');
  }

  /** Puts patient `id`'s draft in the message box. */
  private showDraft(id: string): void {
    this.draftFor = id;
    this.body = this.drafts.get(id) ?? '';
    this.idempotencyKey = null;
  }

  /** Sets the message being written, and its patient's draft with it. */
  private setBody(body: string): void {
    this.body = body;
    if (body) this.drafts.set(this.draftFor, body);
    else this.drafts.delete(this.draftFor);
  }

  /** Length as the server measures it: UTF-16 code units of the body as sent. */
  private get bodyLength(): number {
    return this.body.trim().length;
  }

  /** Why the current patient cannot be texted, or null when they can. */
  /** On a chart, the practitioner opens the dialog to write: focus starts in the message, not the patient search. */
  protected override get searchFirst(): boolean {
    return !this.hasPickedPatient;
  }

  override updated(): void {
    // The message box was disabled with focus in it (the patient turned out to have opted out, or to have no
    // number): focus goes to the patient search, not to the page behind the dialog.
    const box = this.renderRoot.querySelector('textarea');
    const focused = (this.renderRoot as ShadowRoot).activeElement;
    if (this.open && box?.disabled && (focused === box || document.activeElement === document.body)) this.picker?.focus();
  }

  private blocker(): string | null {
    const patient = this.patient;
    if (!patient) return null;
    if (patient.optedOut) {
      return msg(str`${patient.name} has opted out of SMS. They can text START to receive messages again.`);
    }
    if (!patient.phone) return msg(str`${patient.name} has no mobile number on file.`);
    return null;
  }

  private errorText(error: CareApiError): string {
    switch (error.code) {
      case 'opted_out':
        return msg('This patient has opted out of SMS, so the message was not sent.');
      case 'no_phone':
        return msg('This patient has no mobile number on file, so the message was not sent.');
      case 'validation_failed':
        return error.problem?.errors?.map((e) => e.message).join(' ') || error.detail;
      case 'network_error':
        return msg('CareComms could not be reached. Check your connection and try again.');
      default:
        return error.detail || msg('The message could not be sent. Try again.');
    }
  }

  private async send(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const patient = this.patient;
    const body = this.body.trim();
    if (!this.client || !patient || !body || body.length > MAX_LENGTH || this.blocker() || this.sending || this.waitSeconds > 0) return;
    this.sending = true;
    this.error = null;
    this.canSendAgain = false;
    this.idempotencyKey ??= crypto.randomUUID();
    try {
      const entry = await this.client.messages.send(patient.id, { body }, { idempotencyKey: this.idempotencyKey });
      this.sent = entry;
      this.idempotencyKey = null;
      this.drafts.delete(patient.id);
      if (this.draftFor === patient.id) this.body = '';
      this.dispatchEvent(new CareSmsSentEvent(entry, patient));
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>('button[autofocus]')?.focus();
    } catch (error) {
      this.error =
        error instanceof CareApiError
          ? error
          : new CareApiError({ status: 0, code: 'unexpected_response', detail: msg('The message could not be sent. Try again.') });
      // The server knew better than the patient on screen (they texted STOP, or lost their number): reload them so the warning shows.
      if (this.error.code === 'opted_out' || this.error.code === 'no_phone') void this.refreshPatient();
      if (this.error.status === 429) this.waitBeforeSending(this.error);
    } finally {
      this.sending = false;
    }
  }

  /** Too many sends: Send waits for as long as the server said (`retryAfterSeconds`), counting down. */
  private waitBeforeSending(error: CareApiError): void {
    const said = Number((error.problem as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds);
    const seconds = Number.isFinite(said) && said > 0 ? Math.ceil(said) : DEFAULT_RETRY_AFTER_SECONDS;
    this.error = null;
    this.waitFrom = seconds;
    this.waitSeconds = seconds;
    this.waitUntil = Date.now() + seconds * 1000;
    this.startWaitTimer();
  }

  private startWaitTimer(): void {
    if (this.waitTimer) return;
    this.waitTimer = setInterval(() => this.tickWait(), 1000);
    this.tickWait();
  }

  private stopWaitTimer(): void {
    if (this.waitTimer) clearInterval(this.waitTimer);
    this.waitTimer = null;
  }

  private tickWait(): void {
    const left = Math.max(0, Math.ceil((this.waitUntil - Date.now()) / 1000));
    this.waitSeconds = left;
    if (left > 0) return;
    this.stopWaitTimer();
    this.waitUntil = 0;
    this.waitFrom = 0;
    this.canSendAgain = true;
  }

  protected override onPatientChange(event: CarePatientChangeEvent): void {
    const before = this.patient?.id ?? '';
    super.onPatientChange(event);
    const after = this.patient?.id ?? '';
    if (after !== before) this.error = null;
    // Searching (no one chosen yet), or the draft's own patient chosen again or reloaded: the box keeps its text.
    if (!after || after === this.draftFor) return;
    // Text typed before choosing whom it is for goes to the patient chosen, unless they have a draft of their own.
    const unaddressed = this.drafts.get('');
    if (!this.draftFor && unaddressed && !this.drafts.has(after)) {
      this.drafts.delete('');
      this.drafts.set(after, unaddressed);
    }
    // Never carry one patient's message over to another: each has their own draft.
    this.showDraft(after);
  }

  /** Ctrl+Enter (⌘+Enter on a Mac) sends, as in mail and chat apps; Enter alone starts a new line. */
  private onKeyDown(event: KeyboardEvent): void {
    if (event.key !== 'Enter' || !(event.ctrlKey || event.metaKey) || event.isComposing) return;
    event.preventDefault();
    (event.target as HTMLTextAreaElement).form?.requestSubmit();
  }

  private onInput(event: InputEvent): void {
    this.setBody((event.target as HTMLTextAreaElement).value);
    this.idempotencyKey = null;
  }

  private sendAnother(): void {
    this.error = null;
    this.canSendAgain = false;
    this.sent = null;
    void this.updateComplete.then(() => this.renderRoot.querySelector('textarea')?.focus());
  }

  protected renderCounter() {
    // The body as it will be sent (trimmed), as the limit and the bill count it.
    const info = countSmsSegments(this.body.trim());
    const segments = info.segments;
    // Out of what the segments so far hold: 160 for one GSM-7 SMS, 153 a segment past it (70 and 67 in Unicode).
    // Never more than one message can hold, so a message near the limit does not seem to have room left. The
    // limit counts characters while the counter counts what the handset does (€ [ ] … take two in GSM-7), so
    // it is put in the counter's terms: the counter passes it exactly when the message is too long.
    const limit = MAX_LENGTH + info.characters - this.bodyLength;
    const capacity = Math.min(Math.max(segments, 1) * info.perSegment, limit);
    return html`<div class="counter" part="counter" id="counter">
        <span>${msg(str`${formatCount(info.characters)}/${formatCount(capacity)} characters`)}</span>
        <span>${segments === 1 ? msg('1 SMS segment') : msg(str`${segments} SMS segments`)}</span>
      </div>
      ${info.encoding === 'UCS-2'
        ? html`<p class="message warning" role="status">
            ${alertIcon}
            <span
              >${msg(
                str`Contains characters that need Unicode (${info.unicodeCharacters.map(nameCharacter).join(', ')}), so each segment holds 70 characters instead of 160.`,
              )}</span
            >
          </p>`
        : nothing}`;
  }

  /** Nothing typed or pasted is cut off: a message over the limit stays as it is, with this error, until shortened. */
  protected renderTooLong() {
    // Always in the page so that crossing the limit is announced, politely, not at every keystroke.
    return html`<div role="status">
      ${this.bodyLength > MAX_LENGTH
        ? html`<p class="message danger" part="too-long" id="too-long">
            ${alertIcon}<span
              >${msg(
                str`Too long: ${formatCount(this.bodyLength)} characters; an SMS can have at most ${formatCount(MAX_LENGTH)}.`,
              )}</span
            >
          </p>`
        : nothing}
    </div>`;
  }

  protected renderForm() {
    const blocker = this.blocker();
    const tooLong = this.bodyLength > MAX_LENGTH;
    const waiting = this.waitSeconds > 0;
    const canSend = !!this.patient && !blocker && this.bodyLength > 0 && !tooLong && !this.sending && !waiting;
    return html`<form id="form" @submit=${this.send} novalidate>
      ${this.renderPicker()}
      ${blocker ? html`<p class="message warning" role="alert">${alertIcon}<span>${blocker}</span></p>` : nothing}
      <div class="field">
        <label for="body">${msg('Message')}</label>
        <textarea
          id="body"
          part="message"
          ?autofocus=${!this.searchFirst}
          aria-describedby=${tooLong ? 'too-long counter' : 'counter'}
          aria-invalid=${tooLong ? 'true' : nothing}
          .value=${this.body}
          ?disabled=${!!blocker}
          ?readonly=${this.sending}
          aria-keyshortcuts="Control+Enter Meta+Enter"
          @input=${this.onInput}
          @keydown=${this.onKeyDown}
        ></textarea>
        ${this.renderCounter()} ${this.renderTooLong()}
        ${this.error
          ? html`<p class="message danger" part="error" role="alert">${alertIcon}<span>${this.errorText(this.error)}</span></p>`
          : nothing}
        ${this.renderWait()}
      </div>
    </form>
    <button slot="footer" class="button" type="button" @click=${() => this.dialog.requestClose('api')}>
      ${msg('Cancel')}
    </button>
    <button
      slot="footer"
      class="button primary"
      part="send-button"
      type="submit"
      form="form"
      ?disabled=${!canSend}
      aria-busy=${this.sending ? 'true' : 'false'}
    >
      ${smsIcon}${this.sending ? msg('Sending…') : msg('Send SMS')}
    </button>`;
  }

  /**
   * The wait after too many sends. The seconds count down on screen, out of
   * any live region (a number announced every second would drown everything
   * else); the alert says once how long the wait is, and the status region,
   * always in the page, says when sending is possible again.
   */
  protected renderWait() {
    const waiting = this.waitSeconds > 0;
    return html`${waiting
        ? html`<p class="message danger" part="error" id="wait">${alertIcon}<span>${waitText(this.waitSeconds)}</span></p>
            <p class="visually-hidden" role="alert">${waitText(this.waitFrom)}</p>`
        : nothing}
      <div role="status">
        ${!waiting && this.canSendAgain
          ? html`<p class="message" part="can-send">${checkIcon}<span>${msg('You can send messages again.')}</span></p>`
          : nothing}
      </div>`;
  }

  protected renderSent(entry: CorrespondenceEntry, patient: Patient) {
    return html`<div class="sent" part="confirmation" role="status">
        ${checkIcon}
        <h3>${msg(str`Message sent to ${patient.name}`)}</h3>
        <p>${patient.phoneDisplay ?? entry.contact ?? ''}</p>
        <p>${msg('Delivery updates appear in the correspondence list.')}</p>
      </div>
      <button slot="footer" class="button" type="button" @click=${this.sendAnother}>${msg('Send another')}</button>
      <button slot="footer" class="button primary" type="button" autofocus @click=${() => this.hide()}>
        ${msg('Done')}
      </button>`;
  }

  override render() {
    return html`<care-dialog
      part="dialog"
      exportparts="dialog: dialog-dialog, header: dialog-header, title: dialog-title, close-button: dialog-close-button, body: dialog-body, footer: dialog-footer"
      label=${msg('Send SMS')}
      .open=${this.open}
      @care-close=${() => (this.open = false)}
    >
      ${this.sent && this.patient ? this.renderSent(this.sent, this.patient) : this.renderForm()}
    </care-dialog>`;
  }
}
