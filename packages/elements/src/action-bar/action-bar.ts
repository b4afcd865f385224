import { LitElement, html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { consume } from '@lit/context';
import { localized, msg } from '@lit/localize';
import type { Feature, SessionInfo } from '@carecomms/core';
import type { CareClient } from '@carecomms/sdk';
import { careClientContext, careSessionContext } from '../context.js';
import { CareActionEvent } from '../events.js';
import { smsIcon, videoIcon, voiceIcon } from '../icons.js';
import { base } from '../styles/shared.js';
import { tokens } from '../styles/tokens.js';
import { actionBarStyles } from './action-bar.styles.js';

/**
 * @tagname care-action-bar
 * @summary The quick-actions bar: Send SMS, Make Call and Video Call on a
 * gradient, showing only the actions the server enables for this session.
 *
 * Inside `<care-comms>` it uses the session that element loaded; on its own,
 * give it a `client` (it loads `/api/v1/session`) or set `features`.
 *
 * @slot - A heading or other content at the start of the bar.
 *
 * @csspart bar - The gradient bar.
 * @csspart actions - The group of buttons.
 * @csspart action - Each action button.
 * @csspart action-sms - The Send SMS button.
 * @csspart action-voice - The Make Call button.
 * @csspart action-video - The Video Call button.
 *
 * @cssproperty --care-action-bar-background - Bar background (a gradient by default).
 * @cssproperty --care-action-bar-color - Text and icon colour on the bar.
 * @cssproperty --care-action-button-background - Button background.
 * @cssproperty --care-action-button-background-hover - Button background on hover.
 *
 * @fires care-action - A button was pressed; `action` is `sms`, `voice` or `video`.
 */
@localized()
export class CareActionBar extends LitElement {
  static override styles = [tokens, base, actionBarStyles];

  /** The API client; provided by `<care-comms>` when inside one. */
  @consume({ context: careClientContext, subscribe: true })
  @property({ attribute: false })
  client?: CareClient;

  /** The session, provided by `<care-comms>`; loaded from `client` otherwise. */
  @consume({ context: careSessionContext, subscribe: true })
  @property({ attribute: false })
  session?: SessionInfo;

  /** Actions to offer. Overrides the session's features when set. */
  @property({ attribute: false }) features?: Feature[];

  @state() private loadedSession?: SessionInfo;

  private loadingFor?: CareClient;

  override willUpdate(): void {
    if (!this.features && !this.session && this.client && this.loadingFor !== this.client) {
      const client = (this.loadingFor = this.client);
      client.session.get().then(
        (session) => {
          if (this.client === client) this.loadedSession = session;
        },
        (error: unknown) => console.warn('care-action-bar: session could not be loaded', error),
      );
    }
  }

  /** The actions shown: explicit `features`, else the session's, else none until it is known. */
  get availableFeatures(): readonly Feature[] {
    return this.features ?? this.session?.features ?? this.loadedSession?.features ?? [];
  }

  protected renderAction(feature: Feature) {
    const [label, icon] = {
      sms: [msg('Send SMS'), smsIcon],
      voice: [msg('Make Call'), voiceIcon],
      video: [msg('Video Call'), videoIcon],
    }[feature];
    return html`<button
      class="action"
      part="action action-${feature}"
      type="button"
      data-action=${feature}
      @click=${() => this.dispatchEvent(new CareActionEvent(feature))}
    >
      ${icon}<span>${label}</span>
    </button>`;
  }

  override render() {
    const features = (['sms', 'voice', 'video'] as const).filter((f) => this.availableFeatures.includes(f));
    return html`<div class="bar" part="bar">
      <div class="heading"><slot></slot></div>
      ${features.length
        ? html`<div class="actions" part="actions" role="group" aria-label=${msg('Contact the patient')}>
            ${features.map((f) => this.renderAction(f))}
          </div>`
        : nothing}
    </div>`;
  }
}
