import { html, nothing, type PropertyValues } from 'lit';
import { state } from 'lit/decorators.js';
import { localized, msg, str } from '@lit/localize';
import type { CorrespondenceEntry } from '@carecomms/core';
import { CareApiError, type VideoVisit } from '@carecomms/sdk';
import { getLocalMediaOrVoice, MediaAccessError, stopStream, type VideoSession, type VideoSessionEndedEvent } from '@carecomms/sdk/video';
import type { CarePatientChangeEvent, CareRequestCloseEvent } from '../dialog-events.js';
import { CareVideoEndedEvent, CareVideoStartedEvent } from '../video-events.js';
import { alertIcon, smsIcon, videoIcon } from '../icons.js';
import { checkIcon } from '../dialog-icons.js';
import { formatDuration } from '../format.js';
import {
  canShareScreen,
  failedDevices,
  keepVideosPlaying,
  mediaErrorText,
  renderControls,
  renderDevicePickers,
  renderStage,
  VideoCallController,
  videoCallStyles,
  type FailedDevice,
  type StageLayout,
} from '../internal/video-call.js';
import { PatientDialogElement } from '../internal/patient-dialog.js';
import { confirmPanel } from '../styles/confirm-panel.js';
import { base } from '../styles/shared.js';
import { laterTokens, touchTargets, warningMessage } from '../styles/later.js';
import { tokens } from '../styles/tokens.js';
import { copyIcon, hangUpIcon } from '../video-icons.js';
import { videoTokens } from '../styles/video-tokens.js';
import { videoDialogStyles } from './video-dialog.styles.js';

type Phase = 'pick' | 'starting' | 'live' | 'ending' | 'ended';
type LinkStatus = { kind: 'copied' } | { kind: 'sending' } | { kind: 'sent'; to: string } | { kind: 'error'; text: string } | null;

/** How long "Link copied" stays. */
const COPIED_MS = 4000;

/**
 * @tagname care-video-dialog
 * @summary Run a video visit with a patient: choose the patient, start the
 * call, share the join link (copy it, or text it), then talk face to face —
 * the patient and yourself side by side, or the patient large and yourself
 * small — with mute, camera, screen sharing, camera and microphone switching,
 * and a timer that runs from the patient joining. Ending the call logs the
 * visit and its duration in the correspondence history. Closing the dialog during a call asks first, as
 * does leaving the page (which ends the visit if the page goes anyway);
 * `hide()` closes it at once and ends the call.
 *
 * Uses `<care-dialog>` and `<care-patient-picker>`, which must be defined.
 * `twilio-video` is loaded only when the first Twilio visit starts; on the
 * sandbox provider the call is WebRTC signalled through the CareComms server.
 *
 * @csspart dialog - The `<care-dialog>`; its own parts are exported as `dialog-*`.
 * @csspart picker - The `<care-patient-picker>`.
 * @csspart start-button - The Start video call button.
 * @csspart error - Why the call could not start, or a control failed.
 * @csspart voice-only - Says the camera is not available, so the visit goes ahead by voice (the screen can still be shared).
 * @csspart status - The call state: waiting for the patient, patient joined or left, reconnecting.
 * @csspart stage - The video area.
 * @csspart remote-video - The patient's video.
 * @csspart local-video - The practitioner's own camera (or shared screen), beside the patient's or small in its corner.
 * @csspart timer - The call timer (m:ss, h:mm:ss from an hour on), from when the patient first joins; not shown while waiting for them.
 * @csspart controls - The row of call controls.
 * @csspart mute-button - Mute toggle; its label says what pressing does (Mute, Unmute), and it has the class `active` while muted.
 * @csspart camera-button - Camera toggle (Turn camera off, Turn camera on); class `active` while the camera is off.
 * @csspart screen-share-button - Screen sharing toggle (Share screen, Stop sharing); class `active` while sharing.
 * @csspart layout-button - Switches the stage between side by side and picture in picture; hidden when the stage is too narrow for side by side.
 * @csspart end-button - End call.
 * @csspart devices - The camera and microphone pickers.
 * @csspart camera-select - The camera picker.
 * @csspart microphone-select - The microphone picker.
 * @csspart join-link - The join link panel.
 * @csspart join-link-input - The read-only link.
 * @csspart copy-button - Copy link.
 * @csspart send-link-button - Send link by SMS.
 * @csspart confirm-end - The "end the call?" question shown when closing during a call.
 * @csspart summary - The "call ended" view.
 *
 * @cssproperty --care-video-stage - Background behind the videos and controls.
 * @cssproperty --care-video-on-stage - Text and icons on the stage.
 * @cssproperty --care-video-control - Control button background.
 * @cssproperty --care-video-control-active - A pressed toggle (muted, camera off, sharing).
 * @cssproperty --care-video-end - The End call button.
 * @cssproperty --care-color-video - The video channel colour (accents).
 *
 * @fires care-video-started - The visit was created and the call is connecting; carries the visit and the patient.
 * @fires care-video-ended - The call ended; carries the logged video entry with its duration.
 * @fires care-request-close - From the inner dialog (composed); cancel it to keep the dialog open.
 * @fires care-close - The dialog closed.
 */
@localized()
export class CareVideoDialog extends PatientDialogElement {
  static override styles = [tokens, laterTokens, videoTokens, base, videoCallStyles, confirmPanel, videoDialogStyles, touchTargets, warningMessage];

  @state() private phase: Phase = 'pick';
  @state() private visit: VideoVisit | null = null;
  @state() private mediaError: MediaAccessError | null = null;
  /** The device `mediaError` is about. */
  @state() private mediaErrorDevice: FailedDevice = 'both';
  /** Why this visit has no camera (it goes ahead by voice); null with one. */
  @state() private cameraError: MediaAccessError | null = null;
  @state() private apiError: CareApiError | null = null;
  @state() private confirmingEnd = false;
  @state() private linkStatus: LinkStatus = null;
  @state() private entry: CorrespondenceEntry | null = null;
  @state() private endReason: VideoSessionEndedEvent['reason'] | null = null;
  /** Side by side or picture in picture: kept across calls for as long as the element lives. */
  @state() private stageLayout: StageLayout = 'split';

  private readonly call = new VideoCallController(this, (event) => void this.onSessionEnded(event));
  private copiedTimer: ReturnType<typeof setTimeout> | null = null;

  /** Whether a call is under way (closing the dialog would end it). */
  get inCall(): boolean {
    return this.phase === 'starting' || this.phase === 'live' || this.phase === 'ending';
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('open') && this.open && this.phase === 'ended') this.reset();
    this.guardPage(this.phase === 'live');
    // Closed from outside (the host set `open`, or `hide()`): the call cannot go on unseen.
    if (changed.has('open') && !this.open && this.phase === 'live') void this.endCall();
  }

  override updated(): void {
    keepVideosPlaying(this.renderRoot);
  }

  /** The patient is told the visit has ended, rather than wait in an empty room. */
  protected override pageGone(): void {
    if (this.phase === 'live' && this.visit) void this.client?.videoVisits.end(this.visit.id, { keepalive: true }).catch(() => undefined);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.phase === 'live') void this.endCall();
    if (this.copiedTimer) clearTimeout(this.copiedTimer);
  }

  /** Starts a visit with the chosen patient: camera first, then the room. */
  async startCall(): Promise<void> {
    const client = this.client;
    const patient = this.patient;
    if (!client || !patient || this.phase !== 'pick') return;
    this.phase = 'starting';
    this.mediaError = null;
    this.apiError = null;
    let stream: MediaStream;
    try {
      // Without a camera (none on the desk, busy, refused) the visit goes ahead by voice, as it does for the patient.
      ({ stream, cameraError: this.cameraError } = await getLocalMediaOrVoice());
    } catch (error) {
      const mediaError = MediaAccessError.from(error);
      this.mediaErrorDevice = await failedDevices(mediaError);
      this.mediaError = mediaError;
      this.phase = 'pick';
      return;
    }
    let visit: VideoVisit;
    try {
      visit = await client.videoVisits.start(patient.id);
    } catch (error) {
      stopStream(stream);
      this.apiError = toApiError(error, msg('The video call could not be started. Try again.'));
      this.phase = 'pick';
      return;
    }
    if (!this.isConnected || this.phase !== 'starting') {
      // Closed while starting: end the visit nobody will join.
      stopStream(stream);
      void client.videoVisits.end(visit.id).catch(() => undefined);
      return;
    }
    let session: VideoSession;
    try {
      session = await client.videoVisits.session(visit, { localStream: stream });
    } catch (error) {
      // The video code could not be fetched (a network blip): the next Start tries again.
      stopStream(stream);
      void client.videoVisits.end(visit.id).catch(() => undefined);
      this.apiError = CareApiError.network(error);
      this.phase = 'pick';
      return;
    }
    this.visit = visit;
    this.linkStatus = null;
    this.call.attach(session);
    this.phase = 'live';
    // Start is gone: focus goes to the call's first control, not to the page (unless it has gone somewhere meanwhile).
    void this.updateComplete.then(() => {
      if (!(this.renderRoot as ShadowRoot).activeElement) this.renderRoot.querySelector<HTMLElement>('[part="mute-button"]')?.focus();
    });
    this.dispatchEvent(new CareVideoStartedEvent(visit.id, visit.correspondenceId, patient));
    void this.call.refreshDevices();
    await session.connect();
  }

  /** Hangs up and logs the visit. */
  async endCall(): Promise<void> {
    if (this.phase !== 'live') return;
    this.confirmingEnd = false;
    this.phase = 'ending';
    this.call.session?.leave();
    await this.logEnd('left');
  }

  private async logEnd(reason: VideoSessionEndedEvent['reason']): Promise<void> {
    const visit = this.visit;
    const client = this.client;
    this.endReason = reason;
    this.entry = null;
    if (visit && client) {
      try {
        this.entry = await client.videoVisits.end(visit.id);
      } catch (error) {
        this.apiError = toApiError(error, msg('The end of the call could not be logged. Try again.'));
      }
    }
    this.phase = 'ended';
    this.call.detach();
    if (visit) this.dispatchEvent(new CareVideoEndedEvent(visit.id, reason, this.entry, this.patient));
    await this.focusAfterRender('[data-focus-after-end]');
  }

  private reset(): void {
    this.phase = 'pick';
    this.visit = null;
    this.entry = null;
    this.endReason = null;
    this.apiError = null;
    this.mediaError = null;
    this.cameraError = null;
    this.linkStatus = null;
    this.confirmingEnd = false;
  }

  /** The call ended other than by our own End: the visit was ended elsewhere, or the seat moved. */
  private async onSessionEnded(event: VideoSessionEndedEvent): Promise<void> {
    if (event.reason === 'left' || this.phase !== 'live') return;
    this.phase = 'ending';
    this.confirmingEnd = false;
    if (event.reason === 'replaced') {
      // This seat was taken from another window: the visit goes on there, so nothing is logged here.
      this.endReason = 'replaced';
      this.phase = 'ended';
      this.call.detach();
      if (this.visit) this.dispatchEvent(new CareVideoEndedEvent(this.visit.id, 'replaced', null, this.patient));
      return;
    }
    await this.logEnd(event.reason);
  }

  private onRequestClose(event: CareRequestCloseEvent): void {
    if (!this.inCall) return;
    event.preventDefault();
    if (this.phase !== 'live') return;
    this.confirmingEnd = true;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('[part="confirm-end"] button')?.focus());
  }

  private keepCall(): void {
    this.confirmingEnd = false;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('[part="end-button"]')?.focus());
  }

  private async endAndClose(): Promise<void> {
    await this.endCall();
    this.dialog.hide();
  }

  protected override onPatientChange(event: CarePatientChangeEvent): void {
    super.onPatientChange(event);
    this.apiError = null;
    this.mediaError = null;
  }

  private async copyLink(): Promise<void> {
    const url = this.visit?.joinUrl;
    if (!url) return;
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      // No clipboard permission (e.g. an iframe without it): select the text and copy the old way.
      const input = this.renderRoot.querySelector<HTMLTextAreaElement>('#join-url');
      input?.focus();
      input?.select();
      if (!document.execCommand('copy')) {
        this.linkStatus = { kind: 'error', text: msg('The link could not be copied. Select it and copy it yourself.') };
        return;
      }
    }
    this.linkStatus = { kind: 'copied' };
    if (this.copiedTimer) clearTimeout(this.copiedTimer);
    this.copiedTimer = setTimeout(() => {
      if (this.linkStatus?.kind === 'copied') this.linkStatus = null;
    }, COPIED_MS);
  }

  private async sendLink(): Promise<void> {
    const visit = this.visit;
    const client = this.client;
    if (!visit || !client || this.linkStatus?.kind === 'sending') return;
    this.linkStatus = { kind: 'sending' };
    try {
      const sms = await client.videoVisits.sendLink(visit.id);
      this.linkStatus = { kind: 'sent', to: this.patient?.phoneDisplay ?? sms.contact ?? '' };
    } catch (error) {
      const apiError = toApiError(error, msg('The link could not be sent. Try again.'));
      this.linkStatus = {
        kind: 'error',
        text:
          apiError.code === 'opted_out'
            ? msg('This patient has opted out of SMS, so the link was not sent. Copy it and share it another way.')
            : apiError.code === 'no_phone'
              ? msg('This patient has no mobile number on file. Copy the link and share it another way.')
              : apiError.code === 'network_error'
                ? msg('CareComms could not be reached. Check your connection and try again.')
                : apiError.detail,
      };
    }
  }

  /** The patient's seat is empty: they have not joined yet, or they left (and may come back). */
  private waitingText(name: string): string {
    return this.call.session?.connectedAt != null
      ? msg(str`${name} left the call. The link still works if they rejoin.`)
      : msg(str`Waiting for ${name} to join`);
  }

  private statusText(): string {
    const name = this.patient?.name ?? msg('the patient');
    switch (this.call.session?.state) {
      case 'connecting':
        return msg('Connecting…');
      case 'waiting':
        return this.waitingText(name);
      case 'connected':
        return msg(str`${name} joined`);
      case 'reconnecting':
        return msg('Reconnecting…');
      default:
        return this.phase === 'ending' ? msg('Ending the call…') : '';
    }
  }

  protected renderPick() {
    const starting = this.phase === 'starting';
    return html`<div class="pick">
        ${this.renderPicker()}
        ${this.patient
          ? html`<p class="hint">
              ${msg(str`A private video room is created for ${this.patient.name}. You will get a link to send them; they join from their phone or computer, with nothing to install.`)}
            </p>`
          : nothing}
        ${this.mediaError
          ? html`<p class="message danger" part="error" role="alert">${alertIcon}<span>${mediaErrorText(this.mediaError, this.mediaErrorDevice)}</span></p>`
          : nothing}
        ${this.apiError ? html`<p class="message danger" part="error" role="alert">${alertIcon}<span>${errorText(this.apiError)}</span></p>` : nothing}
      </div>
      <button slot="footer" class="button" type="button" @click=${() => this.dialog.requestClose('api')}>${msg('Cancel')}</button>
      <button
        slot="footer"
        class="button primary"
        part="start-button"
        type="button"
        ?disabled=${!this.patient || !this.client || starting}
        aria-busy=${starting ? 'true' : 'false'}
        @click=${this.startCall}
      >
        ${videoIcon}${starting ? msg('Starting…') : msg('Start video call')}
      </button>`;
  }

  protected renderConfirmEnd() {
    return html`<div class="confirm" part="confirm-end" role="alertdialog" aria-labelledby="confirm-title" aria-describedby="confirm-text">
      <div>
        <p class="confirm-title" id="confirm-title">${msg('End the video call?')}</p>
        <p id="confirm-text">${msg(str`${this.patient?.name ?? msg('The patient')} will be disconnected and the visit logged.`)}</p>
      </div>
      <div class="confirm-actions">
        <button class="button" type="button" @click=${this.keepCall}>${msg('Keep call')}</button>
        <button class="button danger" type="button" @click=${this.endAndClose}>${hangUpIcon}${msg('End call')}</button>
      </div>
    </div>`;
  }

  protected renderJoinLink(visit: VideoVisit) {
    const patient = this.patient;
    const status = this.linkStatus;
    const cannotText = !patient?.phone ? msg('No mobile number on file: copy the link and share it another way.') : patient.optedOut ? msg('Opted out of SMS: copy the link and share it another way.') : null;
    return html`<section class="join-link" part="join-link" aria-labelledby="join-link-title">
      <h3 id="join-link-title">${msg('Invite the patient')}</h3>
      <label class="visually-hidden" for="join-url">${msg('Patient join link')}</label>
      <div class="link-row">
        <div class="link-field" data-value=${visit.joinUrl}>
          <textarea
            id="join-url"
            part="join-link-input"
            rows="1"
            readonly
            spellcheck="false"
            .value=${visit.joinUrl}
            @focus=${(e: FocusEvent) => (e.target as HTMLTextAreaElement).select()}
          ></textarea>
        </div>
        <button class="button" part="copy-button" type="button" @click=${this.copyLink}>${copyIcon}${msg('Copy link')}</button>
      </div>
      <button
        class="button"
        part="send-link-button"
        type="button"
        ?disabled=${!!cannotText || status?.kind === 'sending'}
        aria-busy=${status?.kind === 'sending' ? 'true' : 'false'}
        @click=${this.sendLink}
      >
        ${smsIcon}${status?.kind === 'sending' ? msg('Sending…') : msg('Send link by SMS')}
      </button>
      ${cannotText ? html`<p class="note">${cannotText}</p>` : nothing}
      <p class="link-status" role="status">
        ${status?.kind === 'copied' ? html`${checkIcon}${msg('Link copied')}` : nothing}
        ${status?.kind === 'sent' ? html`${checkIcon}${msg(str`Link sent by SMS to ${status.to}`)}` : nothing}
      </p>
      ${status?.kind === 'error' ? html`<p class="message danger" role="alert">${alertIcon}<span>${status.text}</span></p>` : nothing}
      <p class="note">${msg('The link works until the call ends, for one device at a time.')}</p>
    </section>`;
  }

  protected renderCall(visit: VideoVisit) {
    const session = this.call.session;
    const name = this.patient?.name ?? msg('the patient');
    const state = session?.state;
    const overlay =
      state === 'connected'
        ? null
        : state === 'waiting'
          ? this.waitingText(name)
          : state === 'reconnecting'
            ? msg('Reconnecting…')
            : this.phase === 'ending'
              ? msg('Ending the call…')
              : msg('Connecting…');
    return html`${this.confirmingEnd ? this.renderConfirmEnd() : nothing}
      <div class="call">
        <div class="main">
          <p class="call-status ${state ?? ''}" part="status" role="status">${this.statusText()}</p>
          ${renderStage(this.call, {
            remoteLabel: msg(str`${name}'s video`),
            remoteName: name,
            overlay,
            remoteMuted: state === 'connected' && !(session?.remoteMedia.audio ?? true),
            remoteCameraOff: state === 'connected' && !(session?.remoteMedia.video ?? true),
            // Counts from the patient joining: a 0:00 standing still while they have not would read as a call under way.
            // The status line and the overlay already say whom the call is waiting for.
            showTimer: session?.connectedAt != null,
            layout: this.stageLayout,
          })}
          ${renderControls(this.call, {
            screenShare: true,
            endLabel: msg('End call'),
            onEnd: () => void this.endCall(),
            layout: { current: this.stageLayout, onChange: (layout) => (this.stageLayout = layout) },
          })}
          ${session && !session.hasCamera
            ? html`<p class="message warning" part="voice-only" role="status">
                ${alertIcon}<span
                  >${canShareScreen()
                    ? msg(str`Your camera is not available, so ${name} will hear you but not see you. You can still share your screen.`)
                    : msg(str`Your camera is not available, so ${name} will hear you but not see you.`)}</span
                >
              </p>`
            : nothing}
          ${this.call.deviceError
            ? html`<p class="message danger" part="error" role="alert">${alertIcon}<span>${mediaErrorText(this.call.deviceError, this.call.deviceErrorDevice)}</span></p>`
            : nothing}
          ${this.call.screenError
            ? html`<p class="message danger" part="error" role="alert">
                ${alertIcon}<span
                  >${this.call.screenError === 'blocked'
                    ? msg('Your computer does not let this browser share the screen. Allow it in the system settings (screen recording), then try again.')
                    : msg('Your screen could not be shared. Try again, or choose another window or tab.')}</span
                >
              </p>`
            : nothing}
        </div>
        <div class="side">
          ${this.renderJoinLink(visit)}
          ${renderDevicePickers(this.call.devices, {
            stream: session?.localStream ?? null,
            idPrefix: 'practitioner',
            disabled: this.phase !== 'live',
            unavailable: {
              camera: session && !session.hasCamera ? (this.cameraError?.code === 'permission_denied' ? msg('Access blocked') : msg('Not available')) : null,
            },
            onCamera: (id) => void this.call.useCamera(id),
            onMicrophone: (id) => void this.call.useMicrophone(id),
          })}
        </div>
      </div>`;
  }

  protected renderEnded() {
    const entry = this.entry;
    const name = this.patient?.name ?? '';
    const heading =
      this.endReason === 'replaced'
        ? msg('The call moved to another window')
        : this.endReason === 'failed' || this.endReason === 'refused'
          ? msg('The video connection failed')
          : msg('Video call ended');
    return html`<div class="summary" part="summary" role="status">
        ${this.endReason === 'failed' || this.endReason === 'refused' ? alertIcon : checkIcon}
        <h3>${heading}</h3>
        ${entry?.status === 'no-answer'
          ? html`<p>${msg(str`${this.patient?.name ?? msg('The patient')} did not join.`)}</p>
              <p>${msg('The visit is in the correspondence history as No answer.')}</p>`
          : entry
            ? html`<p>${name} · <span class="duration">${formatDuration(entry.durationSeconds ?? 0)}</span></p>
                <p>${msg('The visit and its duration are in the correspondence history.')}</p>`
            : this.endReason === 'replaced'
              ? html`<p>${msg('You opened this visit somewhere else, so it continues there.')}</p>`
              : nothing}
        ${this.apiError ? html`<p class="message danger" part="error" role="alert">${alertIcon}<span>${errorText(this.apiError)}</span></p>` : nothing}
      </div>
      <button slot="footer" class="button primary" type="button" data-focus-after-end @click=${() => this.hide()}>${msg('Done')}</button>`;
  }

  override render() {
    const visit = this.visit;
    const body =
      this.phase === 'ended' ? this.renderEnded() : (this.phase === 'live' || this.phase === 'ending') && visit ? this.renderCall(visit) : this.renderPick();
    return html`<care-dialog
      class=${this.phase === 'live' || this.phase === 'ending' ? 'in-call' : ''}
      part="dialog"
      exportparts="dialog: dialog-dialog, header: dialog-header, title: dialog-title, close-button: dialog-close-button, body: dialog-body, footer: dialog-footer"
      label=${msg('Video Call')}
      .open=${this.open}
      @care-request-close=${this.onRequestClose}
      @care-close=${() => (this.open = false)}
    >
      ${body}
    </care-dialog>`;
  }
}

function toApiError(error: unknown, fallback: string): CareApiError {
  return error instanceof CareApiError ? error : new CareApiError({ status: 0, code: 'unexpected_response', detail: fallback });
}

function errorText(error: CareApiError): string {
  switch (error.code) {
    case 'network_error':
      return msg('CareComms could not be reached. Check your connection and try again.');
    case 'provider_error':
      return msg('The video service could not create the room. Try again in a moment.');
    case 'not_found':
      return msg('This patient is no longer available to you.');
    default:
      return error.detail;
  }
}
