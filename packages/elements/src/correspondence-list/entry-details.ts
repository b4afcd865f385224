import { LitElement, html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { localized, msg, str } from '@lit/localize';
import type { CorrespondenceEntry } from '@carecomms/core';
import type { CareClient } from '@carecomms/sdk';
import { formatDuration } from '../format.js';
import { recordingIcon } from '../icons.js';

/**
 * @tagname care-entry-details
 * @summary Part of `<care-correspondence-list>`: what a call or visit entry
 * adds to a row — its duration, a call's recording (a Play button, then an
 * inline player streaming from a short-lived link) and its notes. Ships with
 * the list, which defines it, and renders into the list's own shadow root
 * (light DOM here), where the list's styles apply.
 *
 * @csspart recording-button - Play recording.
 * @csspart recording - The inline audio player.
 * @csspart notes - The entry's notes.
 */
@localized()
export class CareEntryDetails extends LitElement {
  /** The API client. */
  @property({ attribute: false }) client?: CareClient;

  /** The entry. */
  @property({ attribute: false }) entry?: CorrespondenceEntry;

  /** The recording's streaming URL once asked for: `''` while loading, `null` when it could not be had. */
  @state() private url: string | null | undefined;

  protected override createRenderRoot() {
    return this;
  }

  private get callId(): string | null {
    const callId = this.entry?.session?.['callId'];
    return typeof callId === 'string' ? callId : null;
  }

  /** Asks for a short-lived link (audited on the server when played) and shows the player. */
  private async play(): Promise<void> {
    const callId = this.callId;
    if (!this.client || !callId) return;
    this.url = '';
    try {
      this.url = (await this.client.calls.recordingUrl(callId)).url;
    } catch (error) {
      console.warn('care-correspondence-list: recording unavailable', error);
      this.url = null;
    }
  }

  protected renderRecording() {
    if (this.url) return html`<audio part="recording" controls autoplay src=${this.url} aria-label=${msg('Call recording')}></audio>`;
    // An entry logged from elsewhere has no call here to play.
    if (!this.callId) return html`<span class="detail">${recordingIcon}${msg('Recording available')}</span>`;
    return html`<button class="detail play" part="recording-button" type="button" ?disabled=${this.url === ''} @click=${this.play}>
      ${recordingIcon}${this.url === null ? msg('Recording unavailable, try again') : msg('Play recording')}
    </button>`;
  }

  override render() {
    const entry = this.entry;
    if (!entry) return nothing;
    const timed = entry.durationSeconds !== null && (entry.channel === 'voice' || entry.channel === 'video');
    return html`${timed ? html`<span class="detail">${msg(str`Duration ${formatDuration(entry.durationSeconds!)}`)}</span>` : nothing}
    ${entry.hasRecording ? this.renderRecording() : nothing}
    ${entry.notes ? html`<p class="body notes" part="notes">${msg(str`Notes: ${entry.notes}`)}</p>` : nothing}`;
  }
}
