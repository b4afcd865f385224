import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { localized, msg, str } from '@lit/localize';
import { CareApiError, joinVisit, type PatientSeat } from '@carecomms/sdk';
import {
  getLocalMediaOrVoice,
  listMediaDevices,
  MediaAccessError,
  stopStream,
  VideoSession,
  watchAudioLevel,
  type MediaChoice,
  type MediaDeviceLists,
  type VideoSessionEndedEvent,
} from '@carecomms/sdk/video';
import { CareVideoEndedEvent, CareVideoStartedEvent } from '../video-events.js';
import { alertIcon, videoIcon } from '../icons.js';
import { checkIcon } from '../dialog-icons.js';
import { videoOffIcon } from '../video-icons.js';
import {
  failedDevices,
  keepVideosPlaying,
  mediaErrorText,
  renderControls,
  renderDevicePickers,
  renderStage,
  srcObject,
  VideoCallController,
  videoCallStyles,
  type FailedDevice,
} from '../internal/video-call.js';
import { careLocale, setCareLocale } from '../localization.js';
import { base } from '../styles/shared.js';
import { laterTokens, touchTargets, warningMessage } from '../styles/later.js';
import { tokens } from '../styles/tokens.js';
import { videoTokens } from '../styles/video-tokens.js';
import { videoRoomStyles } from './video-room.styles.js';

/** `clinician-gone`: the visit ended while the clinician was not in the call with the patient (see onSessionEnded). */
type Phase = 'check' | 'joining' | 'live' | 'left' | 'ended' | 'clinician-gone' | 'replaced' | 'failed' | 'invalid' | 'gone';

/**
 * Out of the call nothing tells the page that the visit ended (in it, the
 * provider's room does): on these screens it looks at its link (`HEAD
 * /join/<token>`) every LINK_CHECK_MS, when it comes back to the front, and on
 * arriving there, as a reload would.
 */
const OFF_CALL: ReadonlySet<Phase> = new Set(['check', 'left', 'replaced', 'failed']);
const LINK_CHECK_MS = 15_000;

/**
 * A visit the clinician ends from the call reaches the patient with the
 * clinician still there, or an instant after their leaving (the two can
 * cross). One that ends after they have been gone longer than this was not
 * ended in front of the patient: the server's sweep after the clinician left
 * (a closed tab, a lost connection), or the clinician ending it from elsewhere.
 */
const CLINICIAN_AWAY_MS = 5_000;

/**
 * @tagname care-video-room
 * @summary The patient's side of a video visit, for the page a join link
 * opens: a device check (camera preview, microphone level, camera and
 * microphone choice), Join, a waiting state until the clinician is there, then
 * the call with mute, camera and leave. Made for a phone held upright as much
 * as for a computer; clear messages when the camera is blocked or the link is
 * no longer valid. Needs no account: the join token is the key.
 *
 * @csspart header - The clinic / clinician heading.
 * @csspart preview - The camera preview during the device check.
 * @csspart voice-only - Says the camera is not available, so the patient joins by voice (with Try again).
 * @csspart meter - The microphone level meter.
 * @csspart devices - The camera and microphone pickers.
 * @csspart camera-select - The camera picker.
 * @csspart microphone-select - The microphone picker.
 * @csspart join-button - Join.
 * @csspart status - Waiting for the clinician, connected, reconnecting.
 * @csspart stage - The video area.
 * @csspart remote-video - The clinician's video.
 * @csspart local-video - The patient's own camera, small.
 * @csspart timer - The call timer (m:ss, h:mm:ss from an hour on).
 * @csspart controls - Mute, camera, leave.
 * @csspart mute-button - Mute toggle; its label says what pressing does (Mute, Unmute), and it has the class `active` while muted.
 * @csspart camera-button - Camera toggle (Turn camera off, Turn camera on); class `active` while the camera is off.
 * @csspart end-button - Leave.
 * @csspart error - Why something failed (camera blocked, link invalid or over).
 * @csspart notice - The view after the visit (ended, left, moved to another device).
 *
 * @cssproperty --care-video-stage - Background behind the videos and controls.
 * @cssproperty --care-video-meter - The microphone level bar.
 * @cssproperty --care-color-primary - The Join button.
 *
 * @fires care-video-started - The patient joined the visit.
 * @fires care-video-ended - The patient left, or the visit ended, or it moved to another device.
 */
@localized()
export class CareVideoRoom extends LitElement {
  static override styles = [tokens, laterTokens, videoTokens, base, videoCallStyles, videoRoomStyles, touchTargets, warningMessage];

  /** Origin of the CareComms server; the page's own origin when empty. */
  @property({ attribute: 'base-url' }) baseUrl = '';

  /** The token from the join link (`/join/<token>`). */
  @property({ attribute: 'join-token' }) joinToken = '';

  /** UI language (`en`, `es`); the browser's language when empty. */
  @property() locale = '';

  /** A `fetch` to use instead of the global one (tests, custom transports). */
  @property({ attribute: false }) fetch?: typeof fetch;

  @state() private phase: Phase = 'check';
  @state() private preview: MediaStream | null = null;
  @state() private mediaError: MediaAccessError | null = null;
  /** The device `mediaError` is about. */
  @state() private mediaErrorDevice: FailedDevice = 'both';
  /** Why the preview has no camera (the patient joins by voice only); null with a camera. */
  @state() private cameraError: MediaAccessError | null = null;
  @state() private loadingMedia = false;
  @state() private level = 0;
  @state() private devices: MediaDeviceLists = { cameras: [], microphones: [] };
  @state() private seat: PatientSeat | null = null;
  @state() private retryAfter = 0;
  @state() private joinError: CareApiError | null = null;

  private readonly call = new VideoCallController(this, (event) => this.onSessionEnded(event));
  private stopMeter: (() => void) | null = null;
  private choice: MediaChoice = {};
  private readonly onDeviceChange = () => void this.refreshDevices();
  private linkTimer: ReturnType<typeof setInterval> | undefined;
  private checkingLink = false;
  /** When the patient was last in the call with the clinician: null never (in this session), Infinity now. */
  private withClinician: number | null = null;
  /** Back to a page that was in the background (where timers slow down): look at once. */
  private readonly onVisibilityChange = () => void this.checkLink();

  override connectedCallback(): void {
    super.connectedCallback();
    navigator.mediaDevices?.addEventListener?.('devicechange', this.onDeviceChange);
    document.addEventListener('visibilitychange', this.onVisibilityChange);
    this.linkTimer = setInterval(() => void this.checkLink(), LINK_CHECK_MS);
    if (this.phase === 'check' && !this.preview) void this.startPreview();
  }

  override updated(): void {
    keepVideosPlaying(this.renderRoot);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    navigator.mediaDevices?.removeEventListener?.('devicechange', this.onDeviceChange);
    document.removeEventListener('visibilitychange', this.onVisibilityChange);
    clearInterval(this.linkTimer);
    this.stopPreview();
    this.call.session?.leave();
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('locale') || !this.hasUpdated) {
      const wanted = this.locale || navigator.language;
      if (wanted.split('-')[0] !== careLocale()) {
        setCareLocale(wanted).catch((error: unknown) => console.warn('care-video-room: locale could not be applied', error));
      }
    }
  }

  /** Turns the camera and microphone on for the device check (again, after a refusal or a device change). */
  async startPreview(): Promise<void> {
    if (this.loadingMedia) return;
    this.loadingMedia = true;
    this.mediaError = null;
    this.cameraError = null;
    this.stopPreview();
    try {
      // No camera (none, busy, refused) but a microphone: the patient can still be heard.
      const { stream, cameraError } = await getLocalMediaOrVoice(this.choice);
      if (!this.isConnected || this.phase !== 'check') {
        stopStream(stream);
        return;
      }
      this.preview = stream;
      this.cameraError = cameraError;
      this.stopMeter = watchAudioLevel(stream, (level) => (this.level = level));
      await this.refreshDevices();
    } catch (error) {
      const mediaError = MediaAccessError.from(error);
      this.mediaErrorDevice = await failedDevices(mediaError);
      this.mediaError = mediaError;
    } finally {
      this.loadingMedia = false;
    }
  }

  /** Takes the patient's seat and connects. */
  async join(): Promise<void> {
    const stream = this.preview;
    if (!stream || this.phase !== 'check') return;
    this.phase = 'joining';
    this.joinError = null;
    let seat: PatientSeat;
    const baseUrl = this.baseUrl || location.origin;
    try {
      seat = await joinVisit(baseUrl, this.joinToken, { fetch: this.fetch });
    } catch (error) {
      this.onJoinRefused(error);
      return;
    }
    this.seat = seat;
    this.detachPreview();
    const session = new VideoSession({
      provider: seat.provider,
      role: 'patient',
      baseUrl,
      visitId: seat.visitId,
      token: seat.token,
      roomName: seat.roomName,
      localStream: stream,
      fetch: this.fetch,
    });
    this.call.attach(session);
    this.withClinician = null;
    session.addEventListener('state', () => {
      if (session.state === 'connected') this.withClinician = Infinity;
      else if (session.state !== 'ended' && this.withClinician === Infinity) this.withClinician = Date.now();
    });
    this.phase = 'live';
    void this.updateComplete.then(() => {
      // Join is gone: focus goes to the call's first control, not to the page.
      if (!(this.renderRoot as ShadowRoot).activeElement) this.renderRoot.querySelector<HTMLElement>('[part="mute-button"]')?.focus({ preventScroll: true });
      // A patient who scrolled down to Join would otherwise start the call with its status and picture above the screen.
      if (this.getBoundingClientRect().top < 0) this.scrollIntoView({ block: 'start' });
    });
    this.dispatchEvent(new CareVideoStartedEvent(seat.visitId, null, null));
    void this.call.refreshDevices();
    await session.connect();
  }

  /** Leaves the visit; the clinician sees the seat empty and the patient may rejoin while the visit lasts. */
  leave(): void {
    this.call.session?.leave();
  }

  private onJoinRefused(error: unknown): void {
    const apiError = error instanceof CareApiError ? error : null;
    if (apiError?.status === 404) {
      this.finishWith('invalid');
    } else if (apiError?.status === 410) {
      this.finishWith('gone');
    } else if (apiError?.status === 429) {
      const seconds = Number((apiError.problem as { retryAfterSeconds?: number } | null)?.retryAfterSeconds ?? 60);
      this.retryAfter = seconds;
      this.phase = 'check';
      this.joinError = apiError;
    } else {
      this.phase = 'check';
      this.joinError = apiError ?? CareApiError.network(error);
    }
  }

  /**
   * Off the call, whether the link still opens the visit: its page answers
   * 410 once the visit is over (or the link expired), and then the patient is
   * told so instead of being offered Join. Anything else (offline, a 429)
   * leaves the screen as it is; pressing Join would tell.
   */
  private async checkLink(): Promise<void> {
    if (!OFF_CALL.has(this.phase) || this.checkingLink || document.visibilityState === 'hidden' || !this.joinToken) return;
    this.checkingLink = true;
    try {
      const page = new URL(`${(this.baseUrl || location.origin).replace(/\/+$/, '')}/join/${encodeURIComponent(this.joinToken)}`, location.href);
      // The join page answers no other origin (no CORS): hosted elsewhere, Join is what tells.
      if (!this.fetch && page.origin !== location.origin) return;
      const res = await (this.fetch ?? fetch)(page.href, { method: 'HEAD', cache: 'no-store' });
      if (res.status === 410 && OFF_CALL.has(this.phase)) this.finishWith('gone');
    } catch {
      // Not reachable just now: try again at the next check.
    } finally {
      this.checkingLink = false;
    }
  }

  private finishWith(phase: Phase): void {
    this.stopPreview();
    this.phase = phase;
  }

  /**
   * The visit ending is "Thank you" after a visit with the clinician. Ended
   * before they ever met in this session, or after the clinician had gone,
   * the patient is told the clinician is no longer there, not thanked.
   * Neither the sandbox's `bye` nor Twilio's room ending says why the visit
   * ended, so this is judged from what the patient's side saw.
   */
  private onSessionEnded(event: VideoSessionEndedEvent): void {
    const since = this.withClinician;
    const clinicianGone = since === null || Date.now() - since >= CLINICIAN_AWAY_MS;
    const phases: Record<VideoSessionEndedEvent['reason'], Phase> = {
      left: 'left',
      ended: clinicianGone ? 'clinician-gone' : 'ended',
      replaced: 'replaced',
      refused: 'gone',
      failed: 'failed',
    };
    this.phase = phases[event.reason];
    const visitId = this.seat?.visitId;
    this.call.detach();
    if (visitId) this.dispatchEvent(new CareVideoEndedEvent(visitId, event.reason, null, null));
    // Out of the call (left, moved, failed): is the visit still there to rejoin?
    void this.checkLink();
  }

  /** Back to the device check, to join again with the same link. */
  private rejoin(): void {
    this.phase = 'check';
    this.seat = null;
    void this.startPreview();
    void this.checkLink();
  }

  private async refreshDevices(): Promise<void> {
    try {
      this.devices = await listMediaDevices();
    } catch {
      this.devices = { cameras: [], microphones: [] };
    }
  }

  private choose(kind: 'camera' | 'microphone', deviceId: string): void {
    this.choice = { ...this.choice, [kind === 'camera' ? 'cameraId' : 'microphoneId']: deviceId };
    void this.startPreview();
  }

  /** Hands the preview's tracks over to the call (they keep running). */
  private detachPreview(): void {
    this.stopMeter?.();
    this.stopMeter = null;
    this.preview = null;
    this.level = 0;
  }

  private stopPreview(): void {
    this.stopMeter?.();
    this.stopMeter = null;
    stopStream(this.preview);
    this.preview = null;
    this.level = 0;
  }

  private clinician(): string {
    return this.seat?.practitionerName ?? this.seat?.clinicName ?? msg('your clinician');
  }

  protected renderHeader() {
    const seat = this.seat;
    return html`<header class="header" part="header">
      <span class="mark" aria-hidden="true">${videoIcon}</span>
      <div>
        <h1>${msg('Video visit')}</h1>
        ${seat ? html`<p>${seat.practitionerName ? msg(str`With ${seat.practitionerName}, ${seat.clinicName}`) : seat.clinicName}</p>` : nothing}
      </div>
    </header>`;
  }

  protected renderCheck() {
    const joining = this.phase === 'joining';
    const percent = Math.round(this.level * 100);
    const voiceOnly = !!this.preview && !!this.cameraError;
    // Refused access leaves the browser listing no devices: say blocked, as the error does, not "None found".
    const blocked = msg('Access blocked');
    // The pickers come after Join: on a small phone Join stays in sight under the preview and the meter, and
    // the pickers are for the few who need another camera or microphone.
    return html`<section class="check" aria-labelledby="check-title">
      <h2 id="check-title">${msg('Check your camera and microphone')}</h2>
      <div class="preview-frame">
        <video part="preview" class="preview" autoplay playsinline muted aria-label=${msg('Your camera')} ${srcObject(this.preview)}></video>
        ${!this.preview && !this.mediaError ? html`<p class="preview-note" role="status">${msg('Starting your camera…')}</p>` : nothing}
        ${voiceOnly ? html`<p class="preview-note voice-only" aria-hidden="true">${videoOffIcon}<span>${msg('Voice only')}</span></p>` : nothing}
      </div>
      ${voiceOnly
        ? html`<div class="message warning" part="voice-only" role="status">
            ${alertIcon}
            <div>
              <p>${msg('Your camera is not available, so you will join with voice only. Your clinician will hear you but not see you.')}</p>
              <button class="button" type="button" ?disabled=${joining} @click=${() => void this.startPreview()}>${msg('Try again')}</button>
            </div>
          </div>`
        : nothing}
      ${this.mediaError
        ? html`<div class="message danger" part="error" role="alert">
            ${alertIcon}
            <div>
              <p>${mediaErrorText(this.mediaError, this.mediaErrorDevice)}</p>
              <button class="button" type="button" @click=${() => void this.startPreview()}>${msg('Try again')}</button>
            </div>
          </div>`
        : nothing}
      <div class="meter-row">
        <span id="meter-label">${msg('Microphone level')}</span>
        <div class="meter" part="meter" role="meter" aria-labelledby="meter-label" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${percent}>
          <span style="inline-size: ${percent}%"></span>
        </div>
      </div>
      ${this.joinError
        ? html`<p class="message danger" part="error" role="alert">
            ${alertIcon}<span
              >${this.joinError.status === 429
                ? msg(str`Too many attempts to join. Wait ${this.retryAfter} seconds, then try again.`)
                : this.joinError.code === 'network_error'
                  ? msg('The clinic could not be reached. Check your internet connection and try again.')
                  : this.joinError.detail}</span
            >
          </p>`
        : nothing}
      <button class="button primary join" part="join-button" type="button" ?disabled=${!this.preview || joining} aria-busy=${joining ? 'true' : 'false'} @click=${this.join}>
        ${videoIcon}${joining ? msg('Joining…') : msg('Join')}
      </button>
      ${voiceOnly ? nothing : html`<p class="note">${msg('Your clinician will see and hear you once you join.')}</p>`}
      ${renderDevicePickers(this.devices, {
        stream: this.preview,
        idPrefix: 'check',
        disabled: joining || !this.preview,
        unavailable: {
          camera: (this.mediaError ?? this.cameraError)?.code === 'permission_denied' ? blocked : null,
          microphone: this.mediaError?.code === 'permission_denied' ? blocked : null,
        },
        onCamera: (id) => this.choose('camera', id),
        onMicrophone: (id) => this.choose('microphone', id),
      })}
    </section>`;
  }

  protected renderLive() {
    const session = this.call.session;
    const who = this.clinician();
    const state = session?.state;
    const status =
      state === 'connected'
        ? msg(str`${who} joined`)
        : state === 'reconnecting'
          ? msg('Reconnecting…')
          : state === 'waiting'
            ? msg(str`Waiting for ${who}. Please keep this page open.`)
            : msg('Connecting…');
    const overlay =
      state === 'connected' ? null : state === 'waiting' ? msg('Your clinician will be with you shortly') : state === 'reconnecting' ? msg('Reconnecting…') : msg('Connecting…');
    return html`<section class="live">
      <p class="call-status ${state ?? ''}" part="status" role="status">${status}</p>
      ${renderStage(this.call, {
        remoteLabel: msg(str`${who}'s video`),
        remoteName: who,
        overlay,
        remoteMuted: state === 'connected' && !(session?.remoteMedia.audio ?? true),
        remoteCameraOff: state === 'connected' && !(session?.remoteMedia.video ?? true),
        showTimer: state === 'connected',
        // A patient most often joins from a phone, where the clinician large is what matters.
        layout: 'inset',
      })}
      ${renderControls(this.call, { screenShare: false, endLabel: msg('Leave'), onEnd: () => this.leave() })}
      ${this.call.deviceError ? html`<p class="message danger" part="error" role="alert">${alertIcon}<span>${mediaErrorText(this.call.deviceError, this.call.deviceErrorDevice)}</span></p>` : nothing}
      <details class="settings">
        <summary>${msg('Camera and microphone')}</summary>
        ${renderDevicePickers(this.call.devices, {
          stream: session?.localStream ?? null,
          idPrefix: 'live',
          unavailable: { camera: session && !session.hasCamera ? msg('Not available') : null },
          onCamera: (id) => void this.call.useCamera(id),
          onMicrophone: (id) => void this.call.useMicrophone(id),
        })}
      </details>
    </section>`;
  }

  protected renderNotice() {
    const notice = (icon: unknown, title: string, text: string, action?: { label: string; run: () => void }) =>
      html`<section class="notice" part="notice" role=${this.phase === 'invalid' || this.phase === 'gone' || this.phase === 'failed' || this.phase === 'clinician-gone' ? 'alert' : 'status'}>
        ${icon}
        <h2>${title}</h2>
        <p>${text}</p>
        ${action ? html`<button class="button primary" type="button" @click=${action.run}>${action.label}</button>` : nothing}
      </section>`;
    switch (this.phase) {
      case 'ended':
        return notice(checkIcon, msg('The visit has ended'), msg('Thank you. You can close this page.'));
      case 'clinician-gone':
        return notice(alertIcon, msg('The visit has ended'), msg('Your clinician is no longer in this visit. If you still need to see them, please contact the clinic.'));
      case 'left':
        return notice(checkIcon, msg('You left the visit'), msg('You can rejoin while the visit is still open.'), { label: msg('Rejoin'), run: () => this.rejoin() });
      case 'replaced':
        return notice(alertIcon, msg('The visit is open on another device'), msg('You joined from another phone, tablet or browser, so this one was disconnected.'), {
          label: msg('Use this device instead'),
          run: () => this.rejoin(),
        });
      case 'failed':
        return notice(alertIcon, msg('The connection failed'), msg('Check your internet connection, then try again.'), { label: msg('Try again'), run: () => this.rejoin() });
      case 'gone':
        return notice(alertIcon, msg('This video visit has ended'), msg('The link is no longer valid: the visit is over or the link has expired. Contact your clinic if you still need to speak with them.'));
      default:
        return notice(alertIcon, msg('This link is not recognised'), msg('Check that you opened the whole link from your message, or contact your clinic for a new one.'));
    }
  }

  override render() {
    const body = this.phase === 'check' || this.phase === 'joining' ? this.renderCheck() : this.phase === 'live' ? this.renderLive() : this.renderNotice();
    return html`<div class="room">${this.renderHeader()}<div class="content">${body}</div></div>`;
  }
}
