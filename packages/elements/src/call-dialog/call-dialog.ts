import { html, nothing, type PropertyValues } from 'lit';
import { state } from 'lit/decorators.js';
import { localized, msg, str } from '@lit/localize';
import type { Patient, StartedCall } from '@carecomms/core';
import { CareApiError, type CallSession, type CallSessionEndedEvent, type CallSessionState, type MicrophoneError } from '@carecomms/sdk';
import type { CarePatientChangeEvent, CareRequestCloseEvent } from '../dialog-events.js';
import { formatDuration } from '../format.js';
import { alertIcon, voiceIcon } from '../icons.js';
import { formatCount, PatientDialogElement } from '../internal/patient-dialog.js';
import { confirmPanel } from '../styles/confirm-panel.js';
import { base } from '../styles/shared.js';
import { laterTokens, touchTargets, warningMessage } from '../styles/later.js';
import { tokens } from '../styles/tokens.js';
import { hangUpIcon, micIcon, micOffIcon, pauseIcon, playIcon } from './call-icons.js';
import { callDialogStyles } from './call-dialog.styles.js';
import { CareCallEndedEvent, CareCallStartedEvent } from './call-events.js';

type Phase = 'setup' | 'starting' | 'call';
type NotesState = 'idle' | 'saving' | 'saved' | 'error';

/** Notes are saved this long after the last keystroke (and at once on leaving the box). */
const NOTES_SAVE_DELAY_MS = 1200;
const MAX_NOTES = 10_000;

const isMicrophoneError = (error: unknown): error is MicrophoneError => (error as { name?: string } | null)?.name === 'MicrophoneError';

/**
 * @tagname care-call-dialog
 * @summary Phone a patient from the browser: choose the patient (their number
 * is shown), pick a microphone, **Start call**; then follow the call (ringing,
 * in call, on hold, reconnecting, busy, no answer, failed) with a running
 * timer, **Mute** and **Hold** toggles, **End call**, a live microphone level
 * and call notes saved as you type. Closing the dialog during a call asks first;
 * `hide()` closes it at once and the call carries on.
 *
 * The call's audio runs through `@twilio/voice-sdk` (loaded when the first
 * call starts) or, in the sandbox, WebRTC to the patient phone simulator.
 * Uses `<care-dialog>` and `<care-patient-picker>`, which must be defined.
 *
 * @csspart dialog - The `<care-dialog>`; its own parts are exported as `dialog-*`.
 * @csspart picker - The `<care-patient-picker>`.
 * @csspart microphone - The microphone picker.
 * @csspart level - The microphone input level meter.
 * @csspart start-button - The Start call button.
 * @csspart error - Why a call could not be started or a control failed.
 * @csspart call - The active call panel.
 * @csspart status - The call's status line.
 * @csspart timer - The running m:ss timer.
 * @csspart controls - The Mute, Hold and End call buttons (gone once the call is over).
 * @csspart mute-button - The Mute toggle.
 * @csspart hold-button - The Hold / Resume toggle.
 * @csspart end-button - The End call button.
 * @csspart notes - The call notes box.
 * @csspart confirm - The "end the call?" question shown when closing mid-call.
 *
 * @cssproperty --care-color-primary - Start call and toggled controls.
 * @cssproperty --care-color-danger - End call.
 * @cssproperty --care-color-voice - The calling patient's avatar.
 *
 * @fires care-call-started - The call was placed (carries the call and its new voice entry).
 * @fires care-call-ended - The call is over (carries how it ended and its duration).
 * @fires care-request-close - From the inner dialog (composed); cancel it to keep the dialog open.
 * @fires care-close - The dialog closed.
 */
@localized()
export class CareCallDialog extends PatientDialogElement {
  static override styles = [tokens, laterTokens, base, confirmPanel, callDialogStyles, touchTargets, warningMessage];

  @state() private phase: Phase = 'setup';
  @state() private call: StartedCall | null = null;
  @state() private session: CallSession | null = null;
  @state() private error = '';
  @state() private microphones: MediaDeviceInfo[] = [];
  @state() private microphoneId = '';
  @state() private notes = '';
  @state() private notesState: NotesState = 'idle';
  @state() private holdBusy = false;
  @state() private confirmingClose = false;
  /** What had focus when closing was asked for, to go back to if the call is kept. */
  private focusBeforeConfirm: HTMLElement | null = null;
  @state() private now = Date.now();

  private clock: ReturnType<typeof setInterval> | null = null;
  private notesTimer: ReturnType<typeof setTimeout> | null = null;
  /** The notes last saved (or being saved), so unchanged notes are not saved again. */
  private savedNotes = '';
  /** Set when an update removes the focused call control (see willUpdate). */
  private focusDone = false;
  private readonly onSessionChange = () => {
    this.now = Date.now();
    this.requestUpdate();
  };
  private readonly onSessionEnded = (event: Event) => this.callEnded(event as CallSessionEndedEvent);
  private readonly onDeviceChange = () => void this.listMicrophones();

  /** Rather than leave the patient's phone on a dead line until the provider notices. */
  protected override pageGone(): void {
    if (this.live && this.call) void this.client?.calls.end(this.call.id, { keepalive: true }).catch(() => undefined);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    navigator.mediaDevices?.addEventListener?.('devicechange', this.onDeviceChange);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    navigator.mediaDevices?.removeEventListener?.('devicechange', this.onDeviceChange);
    // Taken off the page mid-call: hang up rather than leave an unseen call running.
    void this.session?.end().catch(() => undefined);
    this.stopClock();
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('open') && this.open) {
      if (!this.live) this.reset();
      void this.listMicrophones();
    }
    // The call controls and microphone go once the call is over: focus on one of them moves to Done, not to the page.
    const focused = this.session?.ended ? (this.renderRoot as ShadowRoot | undefined)?.activeElement : null;
    this.focusDone ||= !!focused?.closest('[part~="controls"], .microphone');
  }

  override updated(): void {
    if (!this.focusDone) return;
    this.focusDone = false;
    void this.focusAfterRender('[slot="footer"].primary');
  }

  /** Whether a call is being placed or under way. */
  get live(): boolean {
    return this.phase === 'starting' || (this.phase === 'call' && !!this.session && !this.session.ended);
  }

  private reset(): void {
    this.detach();
    this.phase = 'setup';
    this.call = null;
    this.error = '';
    this.notes = '';
    this.savedNotes = '';
    this.notesState = 'idle';
    this.confirmingClose = false;
    this.holdBusy = false;
  }

  private detach(): void {
    this.session?.removeEventListener('change', this.onSessionChange);
    this.session?.removeEventListener('level', this.onSessionChange);
    this.session?.removeEventListener('ended', this.onSessionEnded);
    this.guardPage(false);
    this.session = null;
    this.stopClock();
  }

  private stopClock(): void {
    if (this.clock) clearInterval(this.clock);
    this.clock = null;
  }

  private async listMicrophones(): Promise<void> {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    try {
      const devices = await navigator.mediaDevices.enumerateDevices();
      this.microphones = devices.filter((d) => d.kind === 'audioinput' && d.deviceId && d.deviceId !== 'default');
    } catch {
      this.microphones = [];
    }
  }

  /** Why the current patient cannot be called, or null when they can. */
  private blocker(): string | null {
    const patient = this.patient;
    if (!patient) return null;
    if (!patient.phone) return msg(str`${patient.name} has no phone number on file.`);
    return null;
  }

  private errorText(error: unknown): string {
    if (isMicrophoneError(error)) {
      switch (error.code) {
        case 'permission_denied':
          return msg('The microphone is blocked for this page. Allow it in your browser (the icon in the address bar, or the site settings), then try again.');
        case 'no_device':
          return msg('No microphone was found. Connect one, then try again.');
        case 'device_busy':
          return msg('The microphone is being used by another app. Close it, then try again.');
        case 'insecure_context':
          return msg('Calls need a secure (https) connection.');
        case 'unsupported':
          return msg('This browser cannot make calls. Try an up-to-date Chrome, Edge, Firefox or Safari.');
        default:
          return msg('The microphone could not be started. Try again.');
      }
    }
    if (error instanceof CareApiError) {
      switch (error.code) {
        case 'no_phone':
          return msg('This patient has no phone number on file, so the call was not placed.');
        case 'voice_unavailable':
          return msg('Calls are not set up on this CareComms server.');
        case 'call_not_in_progress':
          return msg('The patient has not answered yet, or the call has ended.');
        case 'network_error':
          return msg('CareComms could not be reached. Check your connection and try again.');
        default:
          return error.detail || msg('The call could not be placed. Try again.');
      }
    }
    return msg('The call could not be placed. Try again.');
  }

  private async startCall(): Promise<void> {
    const patient = this.patient;
    if (!this.client || !patient || this.blocker() || this.phase !== 'setup') return;
    this.phase = 'starting';
    this.error = '';
    let call: StartedCall | null = null;
    try {
      call = await this.client.calls.start(patient.id);
      this.call = call;
      this.dispatchEvent(new CareCallStartedEvent(call, patient));
      const session = await this.client.calls.connect(call, { microphoneId: this.microphoneId || null });
      this.attach(session);
      this.phase = 'call';
      void this.listMicrophones();
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>('[part~="mute-button"]')?.focus();
    } catch (error) {
      this.error = this.errorText(error);
      this.phase = 'setup';
      this.call = null;
      // The call was placed but could not connect: it is over (the server has ended it).
      if (call) this.dispatchEvent(new CareCallEndedEvent(call.id, 'failed', null, patient));
    }
  }

  private attach(session: CallSession): void {
    this.detach();
    this.session = session;
    session.addEventListener('change', this.onSessionChange);
    session.addEventListener('level', this.onSessionChange);
    session.addEventListener('ended', this.onSessionEnded);
    this.guardPage(true);
    // Twice a second, so the m:ss timer never lags a whole second behind the call.
    this.clock = setInterval(() => (this.now = Date.now()), 500);
    this.now = Date.now();
  }

  private callEnded(event: CallSessionEndedEvent): void {
    this.guardPage(false);
    this.stopClock();
    this.now = Date.now();
    this.holdBusy = false;
    this.confirmingClose = false;
    void this.saveNotes();
    if (this.call && this.patient) this.dispatchEvent(new CareCallEndedEvent(this.call.id, event.state, event.durationSeconds, this.patient));
    this.requestUpdate();
  }

  private toggleMute(): void {
    this.session?.setMuted(!this.session.muted);
  }

  private async toggleHold(): Promise<void> {
    const session = this.session;
    if (!session || this.holdBusy) return;
    this.holdBusy = true;
    this.error = '';
    try {
      await (session.onHold ? session.resume() : session.hold());
    } catch (error) {
      this.error = this.errorText(error);
    } finally {
      this.holdBusy = false;
    }
  }

  private async endCall(): Promise<void> {
    this.confirmingClose = false;
    try {
      await this.session?.end();
    } catch (error) {
      this.error = this.errorText(error);
    }
  }

  private async changeMicrophone(event: Event): Promise<void> {
    const deviceId = (event.target as HTMLSelectElement).value;
    this.microphoneId = deviceId;
    if (!this.session || this.session.ended || !deviceId) return;
    try {
      await this.session.setMicrophone(deviceId);
      this.error = '';
    } catch (error) {
      this.error = this.errorText(error);
    }
  }

  private onNotesInput(event: InputEvent): void {
    this.notes = (event.target as HTMLTextAreaElement).value;
    this.notesState = this.notes === this.savedNotes ? this.notesState : 'idle';
    if (this.notesTimer) clearTimeout(this.notesTimer);
    this.notesTimer = setTimeout(() => void this.saveNotes(), NOTES_SAVE_DELAY_MS);
  }

  private async saveNotes(): Promise<void> {
    if (this.notesTimer) clearTimeout(this.notesTimer);
    this.notesTimer = null;
    const call = this.call;
    const notes = this.notes;
    // Over the limit: nothing is cut off; the practitioner is told to shorten them, and they are saved once they fit.
    if (!this.client || !call || notes === this.savedNotes || notes.length > MAX_NOTES) return;
    this.savedNotes = notes;
    this.notesState = 'saving';
    try {
      await this.client.calls.updateNotes(call.id, notes);
      if (this.notes === notes) this.notesState = 'saved';
    } catch {
      this.savedNotes = '';
      this.notesState = 'error';
    }
  }

  private onRequestClose(event: CareRequestCloseEvent): void {
    if (!this.live) {
      void this.saveNotes();
      return;
    }
    event.preventDefault();
    this.focusBeforeConfirm = (this.renderRoot as ShadowRoot).activeElement as HTMLElement | null;
    this.confirmingClose = true;
    // Focus on the safe answer: Esc then Enter (a practitioner typing notes) must not hang up on the patient.
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('[part~="confirm"] .keep')?.focus());
  }

  private async endAndClose(): Promise<void> {
    await this.endCall();
    this.hide();
  }

  private keepTalking(): void {
    this.confirmingClose = false;
    // Back where the practitioner was (the notes, a control), not on End call, where one more Enter would hang up.
    const previous = this.focusBeforeConfirm;
    this.focusBeforeConfirm = null;
    void this.updateComplete.then(() =>
      (previous?.isConnected ? previous : this.renderRoot.querySelector<HTMLElement>('[part~="mute-button"]'))?.focus(),
    );
  }

  /** Places a new call to the same patient, as the button says; when they can no longer be called, the setup view says why. */
  private callAgain(): void {
    this.reset();
    void this.updateComplete.then(() => {
      if (this.blocker()) this.renderRoot.querySelector<HTMLElement>('[part~="start-button"]')?.focus();
      else void this.startCall();
    });
  }

  protected override onPatientChange(event: CarePatientChangeEvent): void {
    super.onPatientChange(event);
    this.error = '';
  }

  private statusText(state: CallSessionState, onHold: boolean): string {
    switch (state) {
      case 'connecting':
        return msg('Connecting…');
      case 'ringing':
        return msg('Ringing…');
      case 'in-progress':
        return onHold ? msg('On hold') : msg('In call');
      case 'reconnecting':
        return msg('Reconnecting…');
      case 'completed':
        return msg('Call ended');
      case 'busy':
        return msg('Busy: the patient declined the call or is on another call');
      case 'no-answer':
        return msg('No answer');
      case 'failed':
        return msg('The call failed');
      case 'canceled':
        return msg('Call cancelled before it was answered');
    }
  }

  /** Seconds the call has lasted (live), or its logged duration once over. */
  private elapsed(session: CallSession): number | null {
    if (session.ended) {
      if (session.durationSeconds !== null) return session.durationSeconds;
      return session.answeredAt && session.endedAt ? Math.floor((session.endedAt - session.answeredAt) / 1000) : null;
    }
    return session.answeredAt ? Math.floor((this.now - session.answeredAt) / 1000) : null;
  }

  protected renderMicrophone(session: CallSession | null) {
    const selected = this.microphoneId || session?.microphoneId || '';
    return html`<div class="field microphone">
      <label for="microphone">${msg('Microphone')}</label>
      <div class="microphone-row">
        <select
          id="microphone"
          part="microphone"
          ?disabled=${!!session?.ended || this.phase === 'starting'}
          @change=${this.changeMicrophone}
        >
          <option value="" ?selected=${!selected}>${msg('Default microphone')}</option>
          ${this.microphones.map(
            (device, index) =>
              html`<option value=${device.deviceId} ?selected=${device.deviceId === selected}>
                ${device.label || msg(str`Microphone ${index + 1}`)}
              </option>`,
          )}
        </select>
        ${session && !session.ended ? this.renderLevel(session) : nothing}
      </div>
    </div>`;
  }

  protected renderLevel(session: CallSession) {
    const level = session.muted ? 0 : Math.round(session.inputLevel * 100);
    return html`<div
      class="level"
      part="level"
      role="meter"
      aria-label=${msg('Microphone level')}
      aria-valuemin="0"
      aria-valuemax="100"
      aria-valuenow=${level}
    >
      <span style="inline-size: ${level}%"></span>
    </div>`;
  }

  protected renderSetup() {
    const blocker = this.blocker();
    const starting = this.phase === 'starting';
    return html`<div class="content">
        ${this.renderPicker()}
        ${blocker ? html`<p class="message warning" role="alert">${alertIcon}<span>${blocker}</span></p>` : nothing}
        ${this.renderMicrophone(null)}
        ${this.error ? html`<p class="message danger" part="error" role="alert">${alertIcon}<span>${this.error}</span></p>` : nothing}
      </div>
      <button slot="footer" class="button" type="button" @click=${() => this.dialog.requestClose('api')}>${msg('Cancel')}</button>
      <button
        slot="footer"
        class="button primary"
        part="start-button"
        type="button"
        ?disabled=${!this.patient || !!blocker || starting}
        aria-busy=${starting ? 'true' : 'false'}
        @click=${this.startCall}
      >
        ${voiceIcon}${starting ? msg('Calling…') : msg('Start call')}
      </button>`;
  }

  protected renderControls(session: CallSession) {
    const canHold = session.state === 'in-progress' || (session.state === 'reconnecting' && session.onHold);
    return html`<div class="controls" part="controls" role="group" aria-label=${msg('Call controls')}>
      <button class="button toggle" part="mute-button" type="button" ?data-on=${session.muted} @click=${this.toggleMute}>
        ${session.muted ? html`${micOffIcon}${msg('Unmute')}` : html`${micIcon}${msg('Mute')}`}
      </button>
      <button
        class="button toggle"
        part="hold-button"
        type="button"
        ?data-on=${session.onHold}
        ?disabled=${!canHold || this.holdBusy}
        @click=${this.toggleHold}
      >
        ${session.onHold ? playIcon : pauseIcon}${session.onHold ? msg('Resume') : msg('Hold')}
      </button>
      <button class="button danger" part="end-button" type="button" @click=${this.endCall}>
        ${hangUpIcon}${msg('End call')}
      </button>
    </div>`;
  }

  protected renderNotes() {
    const stateText: Record<NotesState, string> = {
      idle: '',
      saving: msg('Saving…'),
      saved: msg('Saved'),
      error: msg('Not saved. Keep typing or leave the box to try again.'),
    };
    const tooLong = this.notes.length > MAX_NOTES;
    return html`<div class="field notes">
      <label for="notes">${msg('Call notes')}</label>
      <textarea
        id="notes"
        part="notes"
        aria-describedby="notes-state"
        aria-invalid=${tooLong ? 'true' : nothing}
        .value=${this.notes}
        @input=${this.onNotesInput}
        @blur=${() => void this.saveNotes()}
      ></textarea>
      <p class="notes-state ${tooLong ? 'error' : this.notesState}" id="notes-state" role="status">${tooLong
          ? msg(str`Too long to save: ${formatCount(this.notes.length)} characters; notes can have at most ${formatCount(MAX_NOTES)}.`)
          : stateText[this.notesState]}</p>
    </div>`;
  }

  protected renderConfirm(patient: Patient) {
    return html`<div class="confirm" part="confirm" role="alertdialog" aria-labelledby="confirm-title" aria-describedby="confirm-text">
      <p class="confirm-title" id="confirm-title">${msg('End the call?')}</p>
      <p id="confirm-text">${msg(str`Closing this window hangs up on ${patient.name}.`)}</p>
      <div class="confirm-actions">
        <button class="button keep" type="button" @click=${this.keepTalking}>${msg('Keep talking')}</button>
        <button class="button danger" type="button" @click=${this.endAndClose}>${hangUpIcon}${msg('End call and close')}</button>
      </div>
    </div>`;
  }

  protected renderCall(session: CallSession, patient: Patient) {
    const elapsed = this.elapsed(session);
    const tone = session.ended ? (session.state === 'completed' ? 'ended' : 'danger') : session.onHold ? 'hold' : session.state;
    return html`<div class="content">
        <section class="call" part="call" aria-label=${msg(str`Call with ${patient.name}`)}>
          <div class="avatar" aria-hidden="true">${patient.name.trim().charAt(0).toUpperCase()}</div>
          <div class="who">
            <p class="name">${patient.name}</p>
            <p class="phone">${patient.phoneDisplay ?? patient.phone ?? ''}</p>
          </div>
          <p class="status ${tone}" part="status" role="status">${this.statusText(session.state, session.onHold)}</p>
          <p class="timer" part="timer" role="timer" aria-label=${msg('Call duration')} ?hidden=${elapsed === null}>
            ${formatDuration(elapsed ?? 0)}
          </p>
          ${session.call.call.recording ? html`<p class="recording">${msg('This call is recorded. The patient hears a notice first.')}</p>` : nothing}
        </section>
        ${this.confirmingClose ? this.renderConfirm(patient) : nothing} ${session.ended ? nothing : this.renderControls(session)}
        ${this.error ? html`<p class="message danger" part="error" role="alert">${alertIcon}<span>${this.error}</span></p>` : nothing}
        ${session.ended ? nothing : this.renderMicrophone(session)} ${this.renderNotes()}
      </div>
      ${session.ended
        ? html`<button slot="footer" class="button" type="button" @click=${this.callAgain}>${voiceIcon}${msg('Call again')}</button>
            <button slot="footer" class="button primary" type="button" @click=${() => this.dialog.requestClose('api')}>${msg('Done')}</button>`
        : nothing}`;
  }

  override render() {
    const session = this.session;
    return html`<care-dialog
      part="dialog"
      exportparts="dialog: dialog-dialog, header: dialog-header, title: dialog-title, close-button: dialog-close-button, body: dialog-body, footer: dialog-footer"
      label=${msg('Make Call')}
      .open=${this.open}
      @care-request-close=${this.onRequestClose}
      @care-close=${() => (this.open = false)}
    >
      ${this.phase === 'call' && session && this.patient ? this.renderCall(session, this.patient) : this.renderSetup()}
    </care-dialog>`;
  }
}
