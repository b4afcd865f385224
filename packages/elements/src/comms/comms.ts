import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { provide } from '@lit/context';
import { localized, msg } from '@lit/localize';
import type { Feature, SessionInfo } from '@carecomms/core';
import { CareApiError, createCareClient, type CareClient, type TokenSource } from '@carecomms/sdk';
import { careClientContext, careSessionContext } from '../context.js';
import type { CareCorrespondenceList } from '../correspondence-list/correspondence-list.js';
import type { CareActionEvent } from '../events.js';
import type { CareSmsSentEvent } from '../dialog-events.js';
import { alertIcon } from '../icons.js';
import { ensureDefined } from '../lazy.js';
import { setCareLocale } from '../localization.js';
import { base } from '../styles/shared.js';
import { tokens } from '../styles/tokens.js';
import { commsStyles } from './comms.styles.js';

const DIALOG_TAGS = { sms: 'care-sms-dialog', voice: 'care-call-dialog', video: 'care-video-dialog' } as const;

/**
 * @tagname care-comms
 * @summary The whole CareComms widget: the action bar, the live correspondence
 * list and the SMS, call and video dialogs, sharing one API client.
 *
 * Give it `base-url` and a session `token` (or a `getToken` function that
 * returns a fresh one). Changing the token, e.g. when another practitioner
 * signs in, reloads everything for the new session.
 *
 * @slot heading - Replaces the practitioner summary at the start of the action bar.
 *
 * @csspart action-bar - The gradient bar (`<care-action-bar>`'s `bar`); `action`, `action-sms`, `action-voice`, `action-video` are exported too.
 * @csspart list-toolbar - The filter row of the list; `filter`, `filter-option`, `item`, `badge`, `status`, `body`, `state` are exported too.
 * @csspart sms-dialog - The SMS `<dialog>`; also `send-button`, `message`, `counter`.
 * @csspart error - The banner shown when the session cannot be loaded.
 *
 * @cssproperty --care-font-family - Font of every part.
 * @cssproperty --care-font-size - Base font size.
 * @cssproperty --care-color-primary - Primary buttons and the selected filter.
 * @cssproperty --care-color-text - Text colour.
 * @cssproperty --care-color-surface - Background of lists and fields.
 * @cssproperty --care-action-bar-background - The action bar's gradient.
 * @cssproperty --care-radius - Corner radius of controls.
 *
 * @fires care-action - An action button was pressed (bubbles from the bar).
 * @fires care-sms-sent - An SMS was accepted by the server.
 * @fires care-call-started - A call was placed from the call dialog.
 * @fires care-call-ended - A call from the call dialog is over.
 */
@localized()
export class CareComms extends LitElement {
  static override styles = [tokens, base, commsStyles];

  /** Origin of the CareComms server, e.g. `https://comms.example.org`. */
  @property({ attribute: 'base-url' }) baseUrl = '';

  /** Practitioner session token, minted by the host's backend. */
  @property() token = '';

  /** Called before requests to get a current token; takes precedence over `token`. */
  @property({ attribute: false }) getToken?: TokenSource;

  /** Preselects this patient in the dialogs and shows only their correspondence. */
  @property({ attribute: 'patient-id' }) patientId = '';

  /** UI language (`en`, `es`); defaults to the page's `lang`. */
  @property() locale = '';

  /** `light`, `dark`, or `auto` (follow the OS); by default the host page's `color-scheme`. */
  @property({ reflect: true }) theme: 'light' | 'dark' | 'auto' | '' = '';

  /** A ready-made client, instead of `base-url` + `token` (tests, custom transports). */
  @property({ attribute: false }) client?: CareClient;

  @provide({ context: careClientContext })
  @state()
  private activeClient?: CareClient;

  @provide({ context: careSessionContext })
  @state()
  private session?: SessionInfo;

  @state() private sessionError: CareApiError | null = null;
  @state() private loadError = false;
  @state() private openDialog: Feature | null = null;
  @state() private mountedDialogs: readonly Feature[] = [];

  @query('care-correspondence-list') private list?: CareCorrespondenceList;

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('locale') || !this.hasUpdated) {
      setCareLocale(this.locale || document.documentElement.lang || navigator.language).catch((error: unknown) =>
        console.warn('care-comms: locale could not be applied', error),
      );
    }
    if (changed.has('client') || changed.has('baseUrl') || changed.has('token') || changed.has('getToken')) {
      this.activeClient = this.client ?? this.createClient();
      this.session = undefined;
      void this.loadSession();
    }
  }

  private createClient(): CareClient | undefined {
    if (!this.baseUrl || (!this.token && !this.getToken)) return undefined;
    const getToken = this.getToken;
    const token = this.token;
    return createCareClient({ baseUrl: this.baseUrl, ...(getToken ? { getToken } : { token }) });
  }

  private async loadSession(): Promise<void> {
    const client = this.activeClient;
    this.sessionError = null;
    if (!client) return;
    try {
      const session = await client.session.get();
      if (client === this.activeClient) this.session = session;
    } catch (error) {
      if (client !== this.activeClient) return;
      this.sessionError =
        error instanceof CareApiError
          ? error
          : new CareApiError({ status: 0, code: 'unexpected_response', detail: String(error) });
    }
  }

  /** Opens the dialog for an action, loading its code on first use. */
  async openAction(action: Feature): Promise<void> {
    try {
      await ensureDefined(DIALOG_TAGS[action]);
    } catch (error) {
      this.loadError = true;
      console.warn('care-comms: dialog could not be loaded', error);
      return;
    }
    this.loadError = false;
    if (!this.mountedDialogs.includes(action)) this.mountedDialogs = [...this.mountedDialogs, action];
    this.openDialog = action;
  }

  private onAction(event: CareActionEvent): void {
    void this.openAction(event.action);
  }

  private onSmsSent(event: CareSmsSentEvent): void {
    this.list?.upsert(event.entry);
  }

  private onDialogClose(action: Feature): void {
    if (this.openDialog === action) this.openDialog = null;
  }

  protected renderHeading() {
    const session = this.session;
    if (!session) return nothing;
    return html`<div class="who">
      <span class="practitioner">${session.practitioner.name}</span>
      <span class="tenant">${session.tenant.name}</span>
      ${session.provider === 'sandbox'
        ? html`<span class="sandbox" title=${msg('Messages and calls go to the patient phone simulator, not to real phones.')}
            >${msg('Sandbox')}</span
          >`
        : nothing}
    </div>`;
  }

  protected renderError() {
    if (this.sessionError) {
      const detail =
        this.sessionError.status === 401
          ? msg('Your CareComms session has expired. Reload the page to sign in again.')
          : this.sessionError.code === 'network_error'
            ? msg('CareComms could not be reached. Check your connection.')
            : this.sessionError.detail;
      return html`<p class="message danger" part="error" role="alert">
        ${alertIcon}<span>${detail}</span>
        <button class="button" type="button" @click=${() => this.loadSession()}>${msg('Try again')}</button>
      </p>`;
    }
    if (this.loadError) {
      return html`<p class="message danger" part="error" role="alert">
        ${alertIcon}<span>${msg('This part of CareComms could not be loaded. Check your connection and try again.')}</span>
      </p>`;
    }
    return nothing;
  }

  protected renderDialogs() {
    const dialog = (action: Feature) => {
      if (!this.mountedDialogs.includes(action)) return nothing;
      const open = this.openDialog === action;
      const close = () => this.onDialogClose(action);
      switch (action) {
        case 'sms':
          return html`<care-sms-dialog
            exportparts="dialog-dialog: sms-dialog, send-button, message, counter"
            patient-id=${this.patientId}
            .open=${open}
            @care-close=${close}
            @care-sms-sent=${this.onSmsSent}
          ></care-sms-dialog>`;
        case 'voice':
          return html`<care-call-dialog
            exportparts="dialog-dialog: call-dialog"
            patient-id=${this.patientId}
            .open=${open}
            @care-close=${close}
          ></care-call-dialog>`;
        case 'video':
          return html`<care-video-dialog
            exportparts="dialog-dialog: video-dialog"
            patient-id=${this.patientId}
            .open=${open}
            @care-close=${close}
          ></care-video-dialog>`;
      }
    };
    return (['sms', 'voice', 'video'] as const).map(dialog);
  }

  override render() {
    return html`<div class="root" part="root">
      <care-action-bar
        exportparts="bar: action-bar, action, action-sms, action-voice, action-video"
        @care-action=${this.onAction}
      >
        <slot name="heading">${this.renderHeading()}</slot>
      </care-action-bar>
      ${this.renderError()}
      <care-correspondence-list
        exportparts="toolbar: list-toolbar, filter, filter-option, live, list, item, badge, status, body, state"
        patient-id=${this.patientId}
      ></care-correspondence-list>
      ${this.renderDialogs()}
    </div>`;
  }
}
