import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import type { RangeChangedEvent } from '@lit-labs/virtualizer/events.js';
import { CHANNELS, type CareEvent, type Channel, type CorrespondenceEntry, type Patient, type Status } from '@carecomms/core';
import type { CareClient, EventStreamState } from '@carecomms/sdk';
import { careClientContext } from '../context.js';
import { CareFilterChangeEvent } from '../events.js';
import { formatFullDate, formatWhen } from '../format.js';
import { alertIcon, emailIcon, inboundIcon, outboundIcon, smsIcon, videoIcon, voiceIcon } from '../icons.js';
import { define } from '../lazy.js';
import { base } from '../styles/shared.js';
import { tokens } from '../styles/tokens.js';
import { correspondenceListStyles } from './correspondence-list.styles.js';
import { CareEntryDetails } from './entry-details.js';

const CHANNEL_ICONS = { sms: smsIcon, email: emailIcon, voice: voiceIcon, video: videoIcon } as const;
// `call.updated` and `video.updated` carry the call or visit, not an entry; their entries change through `correspondence.updated`.
const ENTRY_EVENTS = new Set(['correspondence.created', 'correspondence.updated']);
const DANGER_STATUSES = new Set<Status>(['failed', 'undelivered', 'busy', 'no-answer', 'canceled']);
const SUCCESS_STATUSES = new Set<Status>(['delivered', 'received', 'completed']);
/**
 * The virtualizer (≈ 10 KiB gzipped with its layout) is fetched only when a
 * history grows past {@link PLAIN_ROWS} rows: a first page renders without it,
 * so an EHR page that shows the list pays nothing for long-history support.
 * One cached promise, cleared on failure so a later render can retry.
 */
let virtualizerModule: Promise<typeof import('@lit-labs/virtualizer/virtualize.js')> | undefined;
function loadVirtualizer() {
  virtualizerModule ??= import('@lit-labs/virtualizer/virtualize.js').catch((error: unknown) => {
    virtualizerModule = undefined;
    throw error;
  });
  return virtualizerModule;
}

/** Start fetching the next page this many rows before the end is reached. */
const PREFETCH_ROWS = 10;
/** Up to this many rows are plain DOM; a longer history is virtualised. */
export const PLAIN_ROWS = 100;

/** `gone`: the patient is not found, or not shared with this practitioner (a 404): trying again will not help. */
type LoadState = 'idle' | 'loading' | 'ready' | 'error' | 'gone';

const newestFirst = (a: CorrespondenceEntry, b: CorrespondenceEntry) =>
  b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);

/**
 * @tagname care-correspondence-list
 * @summary The correspondence history, newest first: every SMS, email, call and
 * video visit, filterable by channel, loaded page by page as you scroll and
 * updated live as entries are created or change status.
 *
 * The first 100 rows are plain DOM; a longer history is virtualised past them
 * (`@lit-labs/virtualizer`, fetched only then). Rows scroll with the page or
 * the nearest scrolling ancestor. Message bodies are always rendered as text.
 *
 * @csspart toolbar - The row holding the filter and the live indicator.
 * @csspart filter - The channel filter group.
 * @csspart filter-option - One channel choice.
 * @csspart live - The live-updates indicator.
 * @csspart list - The list container.
 * @csspart item - One entry.
 * @csspart badge - The channel badge of an entry.
 * @csspart status - The status label of an entry.
 * @csspart contact - The phone number or email address an entry went to or came from.
 * @csspart body - The message text of an entry.
 * @csspart reason - Why a failed or undelivered message did not go through.
 * @csspart notes - An entry's notes (rendered by `<care-entry-details>`, in this shadow root).
 * @csspart recording-button - Play recording (loads the player for a recorded call).
 * @csspart recording - The inline audio player of a recorded call.
 * @csspart state - The loading, empty and error states.
 *
 * @cssproperty --care-color-sms - SMS badge text. Also `--care-color-sms-surface` for its background.
 * @cssproperty --care-color-email - Email badge text. Also `--care-color-email-surface`.
 * @cssproperty --care-color-voice - Voice badge text. Also `--care-color-voice-surface`.
 * @cssproperty --care-color-video - Video badge text. Also `--care-color-video-surface`.
 * @cssproperty --care-color-surface - List background.
 * @cssproperty --care-color-border - Row separators.
 *
 * @fires care-filter-change - The channel filter changed.
 */
@localized()
export class CareCorrespondenceList extends LitElement {
  static override styles = [tokens, base, correspondenceListStyles];

  /** The API client; provided by `<care-comms>` when inside one. */
  @consume({ context: careClientContext, subscribe: true })
  @property({ attribute: false })
  client?: CareClient;

  /** Show only this patient's correspondence. Without it, all patients the practitioner may see are listed. */
  @property({ attribute: 'patient-id' }) patientId = '';

  /** Channel filter; empty for all channels. */
  @property({ reflect: true }) channel: Channel | '' = '';

  /** Entries fetched per page. */
  @property({ type: Number, attribute: 'page-size' }) pageSize = 30;

  @state() private entries: CorrespondenceEntry[] = [];
  @state() private loadState: LoadState = 'idle';
  @state() private loadingMore = false;
  @state() private moreFailed = false;
  @state() private streamState: EventStreamState | null = null;
  @state() private announcement = '';
  @state() private virtualize?: (typeof import('@lit-labs/virtualizer/virtualize.js'))['virtualize'];
  /** The virtualizer's host for the rows past {@link PLAIN_ROWS} has been in the document for a render (it reads its scrolling ancestors when it starts). */
  @state() private tailHostReady = false;
  /** Plain rows: watches the last {@link PREFETCH_ROWS} rows, to load the next page when any of them is in view. */
  private nearEndObserver?: IntersectionObserver;
  /** The first of the rows {@link nearEndObserver} watches, if any (the rest are the rows after it). */
  private watchedRow: Element | undefined;
  private nextCursor: string | null = null;
  /** Bumped on every reload, so answers to superseded requests are dropped. */
  private generation = 0;
  /** Live entries that arrive while the first page is loading, merged in after it. */
  private pendingLive: CorrespondenceEntry[] = [];
  private unsubscribe: (() => void) | undefined;
  private subscribedClient: CareClient | undefined;
  /** Last row index the virtualizer rendered, to keep loading while the end is still in view. */
  private lastRenderedIndex = 0;

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.subscribedClient) this.subscribe();
    define('care-entry-details', CareEntryDetails);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.nearEndObserver?.disconnect();
    this.nearEndObserver = undefined;
    this.watchedRow = undefined;
  }

  private ensureVirtualizer(): void {
    if (this.virtualize) return;
    loadVirtualizer().then(
      (module) => {
        this.virtualize = module.virtualize;
      },
      (error: unknown) => {
        // Plain rows stay usable; the next growth retries.
        console.warn('care-correspondence-list: the long-list renderer could not be loaded', error);
      },
    );
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client') && this.client !== this.subscribedClient) {
      this.subscribedClient = this.client;
      this.subscribe();
    }
    if (changed.has('client') || changed.has('patientId') || changed.has('channel') || changed.has('pageSize')) {
      void this.reload();
    }
    if (this.entries.length > PLAIN_ROWS) this.ensureVirtualizer();
  }

  override updated(): void {
    const tailHost = !!this.renderRoot.querySelector('.tail');
    if (tailHost !== this.tailHostReady) this.tailHostReady = tailHost;
    this.watchNearEnd();
  }

  /**
   * Plain rows have no range events: while the end of the list is among them,
   * an IntersectionObserver on each of the last {@link PREFETCH_ROWS} rows asks
   * for the next page as soon as any of them is in view (past them, the
   * virtualizer's range events do). Every one of them, not just the first: a
   * jump to the bottom (the scrollbar thumb, End) passes over the rows before
   * the ones it lands on, which never come into view.
   */
  private watchNearEnd(): void {
    const near = this.entries.length - PREFETCH_ROWS;
    const watching = near < PLAIN_ROWS && this.loadState === 'ready' && !!this.nextCursor && typeof IntersectionObserver === 'function';
    const targets = watching ? [...this.renderRoot.querySelectorAll('[role="listitem"]')].slice(Math.max(0, near)) : [];
    // Most renders (a live update, the stream's state) leave the rows to watch as they were: the same first row, the same rows after it.
    if (targets[0] === this.watchedRow) return;
    this.nearEndObserver?.disconnect();
    this.watchedRow = targets[0];
    if (!targets[0]) return;
    this.nearEndObserver ??= new IntersectionObserver((records) => {
      if (records.some((r) => r.isIntersecting)) void this.loadMore();
    });
    for (const target of targets) this.nearEndObserver.observe(target);
  }

  /** Reloads the first page, e.g. after the host changed something the list cannot see. */
  async reload(): Promise<void> {
    const generation = ++this.generation;
    this.lastRenderedIndex = 0;
    this.entries = [];
    this.nextCursor = null;
    this.moreFailed = false;
    this.loadingMore = false;
    if (!this.client) {
      this.loadState = 'idle';
      return;
    }
    this.loadState = 'loading';
    try {
      const page = await this.client.correspondence.list(this.listParams(null));
      if (generation !== this.generation) return;
      this.entries = page.items;
      this.nextCursor = page.nextCursor;
      this.loadState = 'ready';
      for (const entry of this.pendingLive.splice(0)) this.upsert(entry);
    } catch (error) {
      if (generation !== this.generation) return;
      this.loadState = (error as { status?: number }).status === 404 ? 'gone' : 'error';
      console.warn('care-correspondence-list: load failed', error);
    }
  }

  /**
   * Adds or updates an entry without a reload (live events call this; so can a
   * host that just created one). Entries outside the filter are ignored, and so
   * are ones older than the loaded pages: they arrive with a later page.
   */
  upsert(entry: CorrespondenceEntry): void {
    if (this.loadState === 'loading') {
      this.pendingLive.push(entry);
      return;
    }
    const index = this.entries.findIndex((e) => e.id === entry.id);
    if (index >= 0) {
      if (entry.updatedAt < this.entries[index]!.updatedAt) return;
      this.entries = this.entries.map((e, i) => (i === index ? entry : e));
      return;
    }
    if (!this.inFilter(entry) || this.loadState !== 'ready') return;
    const oldest = this.entries.at(-1);
    if (this.nextCursor && oldest && newestFirst(entry, oldest) > 0) return;
    this.entries = [...this.entries, entry].sort(newestFirst);
  }

  private inFilter(entry: CorrespondenceEntry): boolean {
    return (!this.patientId || entry.patientId === this.patientId) && (!this.channel || entry.channel === this.channel);
  }

  private listParams(cursor: string | null) {
    return {
      patientId: this.patientId || undefined,
      channel: this.channel || undefined,
      cursor,
      limit: this.pageSize,
    };
  }

  private subscribe(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.streamState = null;
    if (!this.client || !this.isConnected) return;
    this.unsubscribe = this.client.events.subscribe((event) => this.onCareEvent(event), {
      onStateChange: (state) => {
        this.streamState = state;
      },
      onError: (error) => console.warn('care-correspondence-list: live updates interrupted', error),
    });
  }

  private onCareEvent(event: CareEvent): void {
    if (event.type === 'patient.updated') {
      const patient = event.data as Patient;
      if (this.entries.some((e) => e.patientId === patient.id && e.patientName !== patient.name)) {
        this.entries = this.entries.map((e) => (e.patientId === patient.id ? { ...e, patientName: patient.name } : e));
      }
      return;
    }
    if (!ENTRY_EVENTS.has(event.type)) return;
    const entry = event.data as CorrespondenceEntry;
    const isNew = !this.entries.some((e) => e.id === entry.id);
    this.upsert(entry);
    if (isNew && entry.direction === 'inbound' && this.entries.some((e) => e.id === entry.id)) {
      this.announcement = msg(str`New ${this.channelLabel(entry.channel)} received`);
    }
  }

  private async loadMore(): Promise<void> {
    if (!this.client || !this.nextCursor || this.loadingMore || this.loadState !== 'ready') return;
    const generation = this.generation;
    this.loadingMore = true;
    this.moreFailed = false;
    if (this.entries.length + this.pageSize > PLAIN_ROWS) this.ensureVirtualizer();
    try {
      const page = await this.client.correspondence.list(this.listParams(this.nextCursor));
      if (generation !== this.generation) return;
      const known = new Set(this.entries.map((e) => e.id));
      this.entries = [...this.entries, ...page.items.filter((e) => !known.has(e.id))];
      this.nextCursor = page.nextCursor;
    } catch (error) {
      if (generation !== this.generation) return;
      this.moreFailed = true;
      console.warn('care-correspondence-list: next page failed', error);
    } finally {
      if (generation === this.generation) this.loadingMore = false;
    }
    if (generation === this.generation && !this.moreFailed && this.entries.length > PLAIN_ROWS) {
      // The end may still be in view (tall screen, fast scroll) with no range change to come.
      await this.updateComplete;
      this.loadMoreIfNearEnd();
    }
  }

  private onRangeChanged(event: RangeChangedEvent): void {
    this.lastRenderedIndex = PLAIN_ROWS + event.last;
    this.loadMoreIfNearEnd();
  }

  private loadMoreIfNearEnd(): void {
    if (this.lastRenderedIndex >= this.entries.length - PREFETCH_ROWS) void this.loadMore();
  }

  private onFilterChange(event: Event): void {
    this.channel = (event.target as HTMLInputElement).value as Channel | '';
    this.dispatchEvent(new CareFilterChangeEvent(this.channel || null));
  }

  private channelLabel(channel: Channel): string {
    return { sms: msg('SMS'), email: msg('Email'), voice: msg('Voice'), video: msg('Video') }[channel];
  }

  private statusLabel(status: Status): string {
    const labels: Record<Status, string> = {
      logged: msg('Logged'),
      queued: msg('Queued'),
      initiated: msg('Starting'),
      sending: msg('Sending'),
      sent: msg('Sent'),
      delivered: msg('Delivered'),
      undelivered: msg('Not delivered'),
      received: msg('Received'),
      ringing: msg('Ringing'),
      'in-progress': msg('In progress'),
      completed: msg('Completed'),
      busy: msg('Busy'),
      'no-answer': msg('No answer'),
      canceled: msg('Cancelled'),
      created: msg('Created'),
      waiting: msg('Waiting'),
      failed: msg('Failed'),
    };
    return labels[status] ?? status;
  }

  protected renderFilter() {
    const options: Array<Channel | ''> = ['', ...CHANNELS];
    return html`<fieldset class="filter" part="filter">
      <legend class="visually-hidden">${msg('Channel')}</legend>
      ${options.map(
        (value) => html`<label class="chip" part="filter-option">
          <input type="radio" name="channel" .value=${value} .checked=${this.channel === value} @change=${this.onFilterChange} />
          ${value ? CHANNEL_ICONS[value] : nothing}<span>${value ? this.channelLabel(value) : msg('All')}</span>
        </label>`,
      )}
    </fieldset>`;
  }

  protected renderLiveIndicator() {
    if (!this.streamState) return nothing;
    const reconnecting = this.streamState === 'reconnecting';
    return html`<span class="live ${reconnecting ? 'reconnecting' : ''}" part="live"
      >${reconnecting ? msg('Reconnecting…') : this.streamState === 'open' ? msg('Live') : msg('Connecting…')}</span
    >`;
  }

  protected renderEntry(entry: CorrespondenceEntry, index: number) {
    const tone = DANGER_STATUSES.has(entry.status) ? 'danger' : SUCCESS_STATUSES.has(entry.status) ? 'success' : '';
    const outbound = entry.direction === 'outbound';
    const patientName = this.patientId ? null : entry.patientName;
    const details = entry.durationSeconds !== null || entry.hasRecording || entry.notes;
    // Why a message did not go through, in the server's plain words (Twilio's code alone means nothing to a practitioner).
    const reason = tone === 'danger' ? entry.errorReason : null;
    return html`<div
      class="row"
      role="listitem"
      part="item"
      aria-posinset=${index + 1}
      aria-setsize=${this.nextCursor ? -1 : this.entries.length}
    >
      <div class="meta">
        <span class="badge ${entry.channel}" part="badge">${CHANNEL_ICONS[entry.channel]}${this.channelLabel(entry.channel)}</span>
        ${patientName !== null ? html`<span class="patient">${patientName}</span>` : nothing}
        <span class="direction">${outbound ? outboundIcon : inboundIcon}${outbound ? msg('Outbound') : msg('Inbound')}</span>
        ${entry.contact
          ? html`<span class="contact" part="contact">${outbound ? msg(str`To ${entry.contact}`) : msg(str`From ${entry.contact}`)}</span>`
          : nothing}
        <span class="status ${tone}" part="status">${this.statusLabel(entry.status)}</span>
        <time class="when" datetime=${entry.createdAt} title=${formatFullDate(entry.createdAt)}>${formatWhen(entry.createdAt)}</time>
      </div>
      ${entry.body || details || reason
        ? html`<div class="content">
            ${entry.body ? html`<p class="body" part="body">${entry.body}</p>` : nothing}
            ${reason ? html`<p class="reason" part="reason">${alertIcon}${reason}</p>` : nothing}
            ${details ? html`<care-entry-details .client=${this.client} .entry=${entry}></care-entry-details>` : nothing}
          </div>`
        : nothing}
    </div>`;
  }

  protected renderState() {
    if (this.loadState === 'loading' || this.loadState === 'idle') {
      return html`<div class="list" part="state">
        <span class="visually-hidden" role="status">${msg('Loading correspondence…')}</span>
        ${[0, 1, 2].map(
          () => html`<div class="row" aria-hidden="true">
            <div class="meta"><span class="skeleton badge"></span><span class="skeleton" style="width: 40%"></span></div>
            <div class="skeleton" style="width: 85%"></div>
          </div>`,
        )}
      </div>`;
    }
    if (this.loadState === 'error' || this.loadState === 'gone') {
      const gone = this.loadState === 'gone';
      return html`<div class="list state error" part="state" role="alert">
        ${alertIcon}
        <p>${gone ? msg('This patient was not found, or is not shared with you.') : msg('Correspondence could not be loaded.')}</p>
        ${gone ? nothing : html`<button class="button" type="button" @click=${() => this.reload()}>${msg('Try again')}</button>`}
      </div>`;
    }
    return html`<div class="list state" part="state">
      <p>
        ${this.channel
          ? msg(str`No ${this.channelLabel(this.channel)} correspondence yet.`)
          : msg('No correspondence yet.')}
      </p>
    </div>`;
  }

  protected renderList(visible: boolean) {
    // The first PLAIN_ROWS rows are plain DOM: most histories never need more,
    // and the page pays nothing for the virtualizer. Rows past them are
    // virtualised, in a host below the plain rows, so nothing above the
    // reader moves when it takes over.
    const key = (entry: CorrespondenceEntry) => entry.id;
    const tail = this.entries.length > PLAIN_ROWS ? this.entries.slice(PLAIN_ROWS) : null;
    return html`<div class="list" part="list" ?hidden=${!visible}>
      <div role="list" aria-label=${msg('Correspondence')}>
        ${repeat(this.entries.slice(0, PLAIN_ROWS), key, (entry, index) => this.renderEntry(entry, index))}
        ${tail
          ? html`<div class="tail" role="none" @rangeChanged=${this.onRangeChanged}>
              ${this.virtualize && this.tailHostReady
                ? this.virtualize({ items: tail, keyFunction: key, renderItem: (entry, index) => this.renderEntry(entry, PLAIN_ROWS + index) })
                : nothing}
            </div>`
          : nothing}
      </div>
      ${this.loadingMore ? html`<div class="footer-state" role="status">${msg('Loading more…')}</div>` : nothing}
      ${this.moreFailed
        ? html`<div class="footer-state" role="alert">
            ${msg('More correspondence could not be loaded.')}
            <button class="button" type="button" @click=${() => this.loadMore()}>${msg('Try again')}</button>
          </div>`
        : nothing}
    </div>`;
  }

  override render() {
    const hasRows = this.loadState === 'ready' && this.entries.length > 0;
    return html`
      <div class="toolbar" part="toolbar">${this.renderFilter()} ${this.renderLiveIndicator()}</div>
      ${this.renderList(hasRows)} ${hasRows ? nothing : this.renderState()}
      <div class="visually-hidden" role="status" aria-live="polite">${this.announcement}</div>
    `;
  }
}
