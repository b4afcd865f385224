import { css, html, noChange, nothing, svg, type ReactiveController, type ReactiveControllerHost } from 'lit';
import { Directive, directive, type ElementPart } from 'lit/directive.js';
import { msg, str } from '@lit/localize';
import {
  deviceIdOf,
  listMediaDevices,
  MediaAccessError,
  type MediaDeviceLists,
  type VideoSession,
  type VideoSessionEndedEvent,
} from '@carecomms/sdk/video';
import { formatDuration } from '../format.js';
import { icon, videoIcon } from '../icons.js';
import { hangUpIcon, micIcon, micOffIcon, screenShareIcon, videoOffIcon } from '../video-icons.js';

/**
 * Starts any of `root`'s videos that has a stream but is not playing. `autoplay`
 * alone is not enough: browsers may pause a muted video they judge hidden (mobile
 * power saving) or start it late; these videos have no controls of their own, so
 * a pause is never the user's.
 */
export function keepVideosPlaying(root: ParentNode): void {
  for (const video of root.querySelectorAll('video')) {
    if (video.srcObject && video.paused) video.play().catch(() => undefined);
  }
}

/**
 * How the stage shows the two sides: `split`, equal tiles side by side (on a
 * stage at least 40rem wide; a narrower one keeps the inset), or `inset`, the
 * other side filling the stage with this side small in a corner.
 */
export type StageLayout = 'split' | 'inset';

const splitIcon = icon(svg`<rect x="2" y="5" width="9" height="14" rx="2"/><rect x="13" y="5" width="9" height="14" rx="2"/>`);
const insetIcon = icon(svg`<rect x="2" y="4" width="20" height="16" rx="2"/><rect x="12" y="12" width="7" height="5" rx="1"/>`);

/** Which device a {@link MediaAccessError} is about: the camera, the microphone, or both (or cannot be told). */
export type FailedDevice = 'camera' | 'microphone' | 'both';

/** A message for the camera or microphone failing, that names the one that failed and says what to do. */
export function mediaErrorText(error: MediaAccessError, device: FailedDevice = 'both'): string {
  switch (error.code) {
    case 'permission_denied':
      return device === 'microphone'
        ? msg('The microphone is blocked for this page. Allow it in your browser (the icon in the address bar, or the site settings), then try again.')
        : device === 'camera'
          ? msg('The camera is blocked for this page. Allow it in your browser (the camera icon in the address bar, or the site settings), then try again.')
          : msg(
              'Camera and microphone are blocked for this page. Allow them in your browser (the camera icon in the address bar, or the site settings), then try again.',
            );
    case 'no_device':
      return device === 'microphone'
        ? msg('No microphone was found. Connect one, then try again.')
        : device === 'camera'
          ? msg('No camera was found. Connect one, then try again.')
          : msg('No camera or microphone was found. Connect one, then try again.');
    case 'device_busy':
      return device === 'microphone'
        ? msg('The microphone is being used by another app. Close it, then try again.')
        : device === 'camera'
          ? msg('The camera is being used by another app. Close it, then try again.')
          : msg('The camera or microphone is being used by another app. Close it, then try again.');
    case 'insecure_context':
      return msg('Video needs a secure (https) connection.');
    case 'unsupported':
      return msg('This browser cannot make video calls. Try an up-to-date Chrome, Edge, Firefox or Safari.');
    default:
      return device === 'microphone'
        ? msg('The microphone could not be started. Try again.')
        : device === 'camera'
          ? msg('The camera could not be started. Try again.')
          : msg('The camera or microphone could not be started. Try again.');
  }
}

/**
 * Which device failed when `getLocalMediaOrVoice` threw. It throws only when
 * the microphone cannot be had (without a camera the visit goes ahead by
 * voice), so the microphone failed; the camera as well when there is none at
 * all, or when its access is blocked too. The browser is asked without a
 * prompt: the devices it lists (kinds only, before any access is granted)
 * and the permissions, where it tells; when it cannot be told, both.
 */
export async function failedDevices(error: MediaAccessError): Promise<FailedDevice> {
  switch (error.code) {
    case 'insecure_context':
    case 'unsupported':
      return 'both';
    case 'no_device': {
      const devices = await navigator.mediaDevices?.enumerateDevices?.().catch(() => null);
      return devices?.some((d) => d.kind === 'videoinput') ? 'microphone' : 'both';
    }
    case 'permission_denied': {
      // Only when the browser says the microphone is blocked and the camera is not: a prompt dismissed, or refused
      // for both at once, leaves them alike, and a browser that will not say may have blocked both.
      const state = (name: string) =>
        navigator.permissions
          ?.query({ name: name as PermissionName })
          .then((status) => status.state)
          .catch(() => null) ?? Promise.resolve(null);
      const [microphone, camera] = await Promise.all([state('microphone'), state('camera')]);
      return microphone === 'denied' && (camera === 'granted' || camera === 'prompt') ? 'microphone' : 'both';
    }
    default:
      return 'microphone';
  }
}

/**
 * Keeps an element in step with a {@link VideoSession}: re-renders on its
 * events, ticks the timer once a second, knows the cameras and microphones,
 * and runs the controls (mute, camera, screen share, device switches).
 */
export class VideoCallController implements ReactiveController {
  session: VideoSession | null = null;
  devices: MediaDeviceLists = { cameras: [], microphones: [] };
  /** The last device switch that failed. */
  deviceError: MediaAccessError | null = null;
  /** The device of that switch. */
  deviceErrorDevice: FailedDevice = 'both';
  /**
   * The last screen share that could not start: `blocked` by the computer's
   * own settings (macOS's screen recording permission), or `failed`. Not set
   * when the practitioner cancels the browser's picker: that is a choice.
   */
  screenError: 'blocked' | 'failed' | null = null;
  now = Date.now();

  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly onSessionEvent = () => this.host.requestUpdate();
  private readonly onEnded = (event: Event) => {
    this.stopTimer();
    this.ended(event as VideoSessionEndedEvent);
    this.host.requestUpdate();
  };
  private readonly onDeviceChange = () => void this.refreshDevices();

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly ended: (event: VideoSessionEndedEvent) => void,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    navigator.mediaDevices?.addEventListener?.('devicechange', this.onDeviceChange);
    if (this.session && this.session.state !== 'ended') this.startTimer();
  }

  hostDisconnected(): void {
    navigator.mediaDevices?.removeEventListener?.('devicechange', this.onDeviceChange);
    this.stopTimer();
  }

  attach(session: VideoSession): void {
    this.detach();
    this.session = session;
    for (const type of ['state', 'remote-stream', 'remote-media', 'local-stream']) session.addEventListener(type, this.onSessionEvent);
    session.addEventListener('ended', this.onEnded);
    this.deviceError = null;
    this.screenError = null;
    this.startTimer();
  }

  detach(): void {
    const session = this.session;
    if (!session) return;
    for (const type of ['state', 'remote-stream', 'remote-media', 'local-stream']) session.removeEventListener(type, this.onSessionEvent);
    session.removeEventListener('ended', this.onEnded);
    this.session = null;
    this.stopTimer();
  }

  async refreshDevices(): Promise<void> {
    try {
      this.devices = await listMediaDevices();
    } catch {
      this.devices = { cameras: [], microphones: [] };
    }
    this.host.requestUpdate();
  }

  /** Seconds since both sides were first connected. */
  get elapsedSeconds(): number {
    const since = this.session?.connectedAt;
    return since ? Math.floor((this.now - since) / 1000) : 0;
  }

  toggleMicrophone(): void {
    this.session?.setMicrophoneEnabled(!this.session.microphoneEnabled);
    this.host.requestUpdate();
  }

  toggleCamera(): void {
    this.session?.setCameraEnabled(!this.session.cameraEnabled);
    this.host.requestUpdate();
  }

  async toggleScreenShare(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.screenError = null;
    try {
      await (session.screenSharing ? session.stopScreenShare() : session.startScreenShare());
    } catch (error) {
      const refused = error instanceof MediaAccessError && error.code === 'permission_denied';
      // Chrome words the system's refusal "Permission denied by system"; the user's cancel is "Permission denied".
      if (!refused) this.screenError = 'failed';
      else if (/system/i.test(String((error.cause as Error | undefined)?.message))) this.screenError = 'blocked';
    }
    this.host.requestUpdate();
  }

  async useCamera(deviceId: string): Promise<void> {
    const session = this.session;
    if (session) await this.guard(() => session.useCamera(deviceId), 'camera');
  }

  async useMicrophone(deviceId: string): Promise<void> {
    const session = this.session;
    if (session) await this.guard(() => session.useMicrophone(deviceId), 'microphone');
  }

  private async guard(action: () => Promise<void>, device: FailedDevice): Promise<void> {
    this.deviceError = null;
    try {
      await action();
    } catch (error) {
      this.deviceError = MediaAccessError.from(error);
      this.deviceErrorDevice = device;
    }
    this.host.requestUpdate();
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.now = Date.now();
      this.host.requestUpdate();
    }, 1000);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

export interface StageOptions {
  /** Accessible name of the other side's video. */
  remoteLabel: string;
  /** The other side's name, shown on their tile. */
  remoteName: string;
  /** Shown over the remote video: waiting, reconnecting… For the eye only: the element's status line (role status) says the same, and two live regions would announce it twice. */
  overlay: string | null;
  /** The other side has muted / turned the camera off. */
  remoteMuted: boolean;
  remoteCameraOff: boolean;
  showTimer: boolean;
  layout: StageLayout;
}

/**
 * `<video ${srcObject(stream)}>`: sets the stream only when it is another one.
 * A `.srcObject=` binding sets it at every render (Lit commits objects again,
 * as they may have changed), and each assignment, even of the same stream,
 * makes the video load again (black, back to 0:00): with the call timer or the
 * level meter re-rendering, the video would not show. (Lit's `live` directive
 * checks the same, but pulls more of lit-html into the CDN entry.)
 */
export const srcObject = directive(
  class extends Directive {
    render(_stream: MediaStream | null) {
      return noChange;
    }
    override update(part: ElementPart, [stream]: [MediaStream | null]) {
      const video = part.element as HTMLVideoElement;
      if (video.srcObject !== stream) video.srcObject = stream;
      return noChange;
    }
  },
);

/** Both sides, each on a tile with a name, laid out as `options.layout` says; the timer, and what is happening. */
export function renderStage(controller: VideoCallController, options: StageOptions) {
  const session = controller.session;
  const remote = session?.remoteStream ?? null;
  const hasRemoteVideo = !!remote?.getVideoTracks().length && !options.remoteCameraOff;
  // The name labels repeat the videos' accessible names, so they are for the eye only.
  return html`<div class="stage ${options.layout}" part="stage">
    <div class="tiles">
      <div class="tile remote-tile">
        <video
          class="remote ${hasRemoteVideo ? '' : 'empty'}"
          part="remote-video"
          autoplay
          playsinline
          aria-label=${options.remoteLabel}
          ${srcObject(remote)}
        ></video>
        ${options.overlay
          ? html`<div class="overlay" aria-hidden="true"><span class="spinner"></span>${options.overlay}</div>`
          : options.remoteCameraOff
            ? html`<div class="overlay quiet">${videoOffIcon}<span>${msg('Camera off')}</span></div>`
            : nothing}
        ${options.remoteMuted ? html`<span class="badge remote-muted">${micOffIcon}${msg('Muted')}</span>` : nothing}
        ${options.overlay ? nothing : html`<span class="name" aria-hidden="true">${options.remoteName}</span>`}
      </div>
      <div class="tile local-tile ${session?.screenSharing ? 'screen' : session && !session.cameraEnabled ? 'off' : ''}">
        <video class="local" part="local-video" autoplay playsinline muted aria-label=${msg('Your camera')} ${srcObject(session?.localStream ?? null)}></video>
        ${session && !session.cameraEnabled && !session.screenSharing
          ? html`<div class="overlay quiet local-off" aria-hidden="true">${videoOffIcon}<span>${session.hasCamera ? msg('Camera off') : msg('No camera')}</span></div>`
          : nothing}
        <span class="name" aria-hidden="true">${msg('You')}</span>
      </div>
    </div>
    ${options.showTimer
      ? html`<span class="timer" part="timer" role="timer" aria-label=${msg('Call duration')}>${formatDuration(controller.elapsedSeconds)}</span>`
      : nothing}
  </div>`;
}

/** Whether this browser can share a screen (phones and tablets cannot). */
export const canShareScreen = () => typeof navigator.mediaDevices?.getDisplayMedia === 'function';

export interface ControlOptions {
  screenShare: boolean;
  endLabel: string;
  onEnd: () => void;
  /** Offer to switch the stage between split and inset; left out, there is no such button. */
  layout?: { current: StageLayout; onChange: (layout: StageLayout) => void };
}

/**
 * Mute, camera, (screen share), (layout) and end. A toggle's label says what
 * pressing it does ("Unmute" while muted), so it has no aria-pressed: the two
 * together would contradict each other (WAI-ARIA APG, button pattern). The
 * `active` class marks the toggles whose state is the unusual one.
 */
export function renderControls(controller: VideoCallController, options: ControlOptions) {
  const session = controller.session;
  const muted = !!session && !session.microphoneEnabled;
  const cameraOn = !!session?.cameraEnabled;
  // Joined by voice only: there is no camera to turn on, and the button says so.
  const noCamera = !!session && !session.hasCamera;
  const sharing = !!session?.screenSharing;
  const disabled = !session || session.state === 'ended';
  const canShare = options.screenShare && canShareScreen();
  const layout = options.layout;
  return html`<div class="controls" part="controls" role="group" aria-label=${msg('Call controls')}>
    <button class="control ${muted ? 'active' : ''}" part="mute-button" type="button" ?disabled=${disabled} @click=${() => controller.toggleMicrophone()}>
      ${muted ? micOffIcon : micIcon}<span>${muted ? msg('Unmute') : msg('Mute')}</span>
    </button>
    <button class="control ${cameraOn ? '' : 'active'}" part="camera-button" type="button" ?disabled=${disabled || noCamera} @click=${() => controller.toggleCamera()}>
      ${cameraOn ? videoIcon : videoOffIcon}<span>${noCamera ? msg('No camera') : cameraOn ? msg('Turn camera off') : msg('Turn camera on')}</span>
    </button>
    ${canShare
      ? html`<button
          class="control ${sharing ? 'active' : ''}"
          part="screen-share-button"
          type="button"
          ?disabled=${disabled}
          @click=${() => controller.toggleScreenShare()}
        >
          ${screenShareIcon}<span>${sharing ? msg('Stop sharing') : msg('Share screen')}</span>
        </button>`
      : nothing}
    ${layout
      ? html`<button
          class="control layout"
          part="layout-button"
          type="button"
          @click=${() => layout.onChange(layout.current === 'split' ? 'inset' : 'split')}
        >
          ${layout.current === 'split' ? html`${insetIcon}<span>${msg('Picture in picture')}</span>` : html`${splitIcon}<span>${msg('Side by side')}</span>`}
        </button>`
      : nothing}
    <button class="control end" part="end-button" type="button" ?disabled=${disabled} @click=${options.onEnd}>
      ${hangUpIcon}<span>${options.endLabel}</span>
    </button>
  </div>`;
}

export interface DevicePickerOptions {
  /** The stream whose devices are selected. */
  stream: MediaStream | null;
  idPrefix: string;
  disabled?: boolean;
  /**
   * Said instead of the list when a kind cannot be chosen: access blocked
   * (the browser then lists nothing, which "None found" would misstate), or
   * no camera for a visit joined by voice.
   */
  unavailable?: { camera?: string | null; microphone?: string | null };
  onCamera: (deviceId: string) => void;
  onMicrophone: (deviceId: string) => void;
}

/** Camera and microphone choosers. */
export function renderDevicePickers(devices: MediaDeviceLists, options: DevicePickerOptions) {
  const camera = deviceIdOf(options.stream, 'video');
  const microphone = deviceIdOf(options.stream, 'audio');
  const picker = (
    id: string,
    label: string,
    part: string,
    found: MediaDeviceInfo[],
    selected: string | null,
    fallback: (n: number) => string,
    onChange: (deviceId: string) => void,
    unavailable: string | null | undefined,
  ) => {
    const list = unavailable ? [] : found;
    return html`<div class="picker">
      <label for=${id}>${label}</label>
      <select
        id=${id}
        part=${part}
        ?disabled=${options.disabled || list.length === 0}
        @change=${(e: Event) => onChange((e.target as HTMLSelectElement).value)}
      >
        ${list.length === 0 ? html`<option value="">${unavailable || msg('None found')}</option>` : nothing}
        ${list.map((device, i) => html`<option value=${device.deviceId} ?selected=${device.deviceId === selected}>${device.label || fallback(i + 1)}</option>`)}
      </select>
    </div>`;
  };
  return html`<div class="devices" part="devices">
    ${picker(`${options.idPrefix}-camera`, msg('Camera'), 'camera-select', devices.cameras, camera, (n) => msg(str`Camera ${n}`), options.onCamera, options.unavailable?.camera)}
    ${picker(`${options.idPrefix}-microphone`, msg('Microphone'), 'microphone-select', devices.microphones, microphone, (n) => msg(str`Microphone ${n}`), options.onMicrophone, options.unavailable?.microphone)}
  </div>`;
}

/** Styles for the stage, the controls and the device pickers. */
export const videoCallStyles = css`
  /*
   * The stage and the controls are size containers: the split layout needs
   * the room of the stage itself (a side column, a phone's sheet or the
   * patient's page all narrow it), not of the viewport.
   */
  .stage {
    container: care-stage / inline-size;
    position: relative;
    overflow: hidden;
    border-radius: var(--_care-radius-large);
    background: var(--_care-video-stage);
    color: var(--_care-video-on-stage);
  }
  .tiles {
    position: relative;
  }
  .tile {
    position: relative;
    overflow: hidden;
    background: var(--_care-video-stage);
  }
  .tile video {
    display: block;
    width: 100%;
    height: 100%;
    background: var(--_care-video-stage);
  }
  .remote-tile {
    aspect-ratio: 16 / 10;
    min-height: 12rem;
  }
  .remote {
    object-fit: contain;
  }
  .remote.empty {
    visibility: hidden;
  }
  .local-tile {
    position: absolute;
    right: 0.75rem;
    bottom: 0.75rem;
    width: min(28%, 12rem);
    aspect-ratio: 4 / 3;
    border-radius: var(--_care-radius);
    border: 2px solid var(--_care-video-stage-raised);
    box-shadow: var(--_care-shadow-dialog);
  }
  .local {
    object-fit: cover;
    /* A mirror, as people expect of themselves; a shared screen is shown as it is. */
    transform: scaleX(-1);
  }
  .local-tile.screen .local {
    transform: none;
    object-fit: contain;
  }
  .local-tile.off .local {
    opacity: 0.35;
  }
  .name {
    position: absolute;
    left: 0.5rem;
    bottom: 0.5rem;
    max-width: calc(100% - 1rem);
    padding: 0.125rem 0.5rem;
    border-radius: 999px;
    background: var(--_care-video-stage-raised);
    color: var(--_care-video-on-stage);
    font-size: 0.8125rem;
    font-weight: 600;
    white-space: nowrap;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  /* Clear of the inset in the bottom right corner. */
  .remote-tile .name {
    max-width: 55%;
  }
  .local-tile .name {
    left: 0.25rem;
    bottom: 0.25rem;
    max-width: calc(100% - 0.5rem);
    padding: 0 0.375rem;
    font-size: 0.75rem;
  }
  @container care-stage (width >= 40rem) {
    .stage.split .tiles {
      display: grid;
      grid-template-columns: repeat(2, minmax(0, 1fr));
      gap: 0.25rem;
    }
    .stage.split .remote-tile,
    .stage.split .local-tile {
      position: relative;
      right: auto;
      bottom: auto;
      width: auto;
      min-height: 0;
      aspect-ratio: 4 / 3;
      border: 0;
      border-radius: 0;
      box-shadow: none;
    }
    .stage.split .name {
      left: 0.75rem;
      bottom: 0.75rem;
      max-width: calc(100% - 1.5rem);
      padding: 0.125rem 0.5rem;
      font-size: 0.8125rem;
    }
  }
  .overlay {
    position: absolute;
    inset: 0;
    display: flex;
    flex-direction: column;
    align-items: center;
    justify-content: center;
    gap: 0.75rem;
    padding: 1.5rem;
    text-align: center;
    font-size: 1rem;
    font-weight: 600;
    color: var(--_care-video-on-stage);
  }
  .overlay.quiet {
    color: var(--_care-video-on-stage-muted);
    font-weight: 500;
  }
  .overlay .icon {
    width: 2rem;
    height: 2rem;
  }
  /* Small in the inset: clear of the name label below it. */
  .local-off {
    gap: 0.25rem;
    padding: 0.5rem 0.5rem 1.75rem;
    font-size: 0.75rem;
  }
  .local-off .icon {
    width: 1.5rem;
    height: 1.5rem;
  }
  .spinner {
    width: 1.75rem;
    height: 1.75rem;
    border-radius: 50%;
    border: 3px solid var(--_care-video-control);
    border-top-color: var(--_care-video-on-stage);
    animation: care-spin 0.9s linear infinite;
  }
  @keyframes care-spin {
    to {
      transform: rotate(360deg);
    }
  }
  .timer,
  .badge {
    position: absolute;
    top: 0.75rem;
    display: inline-flex;
    align-items: center;
    gap: 0.375rem;
    padding: 0.25rem 0.625rem;
    border-radius: 999px;
    background: var(--_care-video-stage-raised);
    color: var(--_care-video-on-stage);
    font-size: 0.875rem;
    font-variant-numeric: tabular-nums;
  }
  .timer {
    left: 0.75rem;
  }
  .badge {
    right: 0.75rem;
  }
  .controls {
    container: care-controls / inline-size;
    display: flex;
    flex-wrap: wrap;
    justify-content: center;
    gap: 0.5rem;
    padding: 0.75rem;
    border-radius: var(--_care-radius-large);
    background: var(--_care-video-stage);
  }
  .control {
    display: inline-flex;
    flex-direction: column;
    align-items: center;
    justify-content: center;
    gap: 0.25rem;
    min-width: 4.5rem;
    min-height: 3.25rem;
    padding: 0.375rem 0.75rem;
    border: 0;
    border-radius: var(--_care-radius);
    background: var(--_care-video-control);
    color: var(--_care-video-on-stage);
    font: inherit;
    font-size: 0.8125rem;
    font-weight: 600;
    cursor: pointer;
  }
  /*
   * Hover only where there is a pointer that hovers: a phone keeps the last
   * button tapped "hovered", and a pressed toggle (Unmute, Turn camera on)
   * would take the hover's dark background under its own dark text.
   */
  @media (hover: hover) {
    .control:not(.active):hover:not(:disabled) {
      background: var(--_care-video-control-hover);
    }
  }
  .control.active {
    background: var(--_care-video-control-active);
    color: var(--_care-video-on-control-active);
  }
  .control.active:hover:not(:disabled) {
    filter: brightness(0.94);
  }
  /* Too narrow for the split: the stage keeps the inset, so there is nothing to switch. */
  @container care-controls (width < 40rem) {
    .control.layout {
      display: none;
    }
  }
  .control.end {
    background: var(--_care-video-end);
    color: var(--_care-video-on-end);
  }
  .control.end:hover:not(:disabled) {
    background: var(--_care-video-end);
    filter: brightness(1.1);
  }
  .control:disabled {
    opacity: 0.5;
    cursor: not-allowed;
  }
  .control:focus-visible {
    outline: 2px solid var(--_care-video-on-stage);
    outline-offset: 2px;
  }
  .devices {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr));
    gap: 0.75rem;
  }
  .picker {
    min-width: 0;
  }
  .picker label {
    display: block;
    margin-bottom: 0.25rem;
    font-weight: 600;
    font-size: 0.8125rem;
  }
  .picker select {
    width: 100%;
    min-height: 2.5rem;
    padding: 0.375rem 0.5rem;
    border: 1px solid var(--_care-color-border-strong);
    border-radius: var(--_care-radius);
    background: var(--_care-color-surface);
    color: inherit;
    font: inherit;
    font-size: max(0.875rem, 16px);
  }
  @media (prefers-reduced-motion: reduce) {
    .spinner {
      animation: none;
    }
  }
`;
