import { LitElement, html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { consume } from '@lit/context';
import { localized, msg, str } from '@lit/localize';
import type { Patient } from '@carecomms/core';
import { CareApiError, type CareClient } from '@carecomms/sdk';
import { careClientContext } from '../context.js';
import { CarePatientChangeEvent } from '../dialog-events.js';
import { blockedIcon, searchIcon } from '../dialog-icons.js';
import { alertIcon } from '../icons.js';
import { laterTokens } from '../styles/later.js';
import { base } from '../styles/shared.js';
import { tokens } from '../styles/tokens.js';
import { patientPickerStyles } from './patient-picker.styles.js';

const SEARCH_DELAY_MS = 200;
const PAGE_SIZE = 20;

const samePatient = (a: Patient, b: Patient) =>
  (Object.keys(a) as Array<keyof Patient>).every((key) => a[key] === b[key]) &&
  Object.keys(a).length === Object.keys(b).length;

/**
 * @tagname care-patient-picker
 * @summary Searchable patient selector: an ARIA combobox that searches
 * `GET /api/v1/patients?q=` as you type and shows the chosen patient's phone
 * number and SMS opt-out state.
 *
 * Keyboard: type to search, ↓/↑ to move, Enter to choose, Esc to close the list.
 *
 * @csspart label - The field label.
 * @csspart input - The search box (role combobox).
 * @csspart listbox - The list of matches.
 * @csspart option - One match.
 * @csspart more - The note under the list when more patients match than it shows.
 * @csspart selected - The summary of the chosen patient.
 * @csspart phone - The chosen patient's formatted phone number.
 * @csspart opted-out - The "Opted out of SMS" tag.
 * @csspart error - Why the patient in `value` could not be loaded.
 *
 * @cssproperty --care-color-focus - Focus ring and active option outline.
 * @cssproperty --care-color-warning - Opted-out tag text.
 *
 * @fires care-patient-change - The chosen patient changed (also once a preset `value` has loaded, and when `refresh()` finds their details changed).
 */
@localized()
export class CarePatientPicker extends LitElement {
  static override styles = [tokens, laterTokens, base, patientPickerStyles];
  static override shadowRootOptions: ShadowRootInit = { ...LitElement.shadowRootOptions, delegatesFocus: true };

  /** The API client; provided by `<care-comms>` when inside one. */
  @consume({ context: careClientContext, subscribe: true })
  @property({ attribute: false })
  client?: CareClient;

  /** Id of the chosen patient. Setting it loads and shows that patient. */
  @property() value = '';

  /** Field label. Defaults to "Patient". */
  @property() label = '';

  /** The chosen patient, once loaded. */
  @state() patient: Patient | null = null;

  @state() private query = '';
  @state() private results: Patient[] = [];
  /** More patients match than the list shows (the search asks for the first PAGE_SIZE, by name). */
  @state() private more = false;
  @state() private expanded = false;
  @state() private activeIndex = -1;
  @state() private searching = false;
  @state() private searchError = '';
  /** Why the patient in `value` could not be loaded; shown under the field, as the list is usually closed. */
  @state() private loadError = '';

  private searchTimer: ReturnType<typeof setTimeout> | undefined;
  private searchAbort: AbortController | undefined;

  override willUpdate(changed: Map<string, unknown>): void {
    if ((changed.has('value') || changed.has('client')) && this.value !== (this.patient?.id ?? '')) {
      void this.loadPatient(this.value);
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.searchTimer);
    this.searchAbort?.abort();
  }

  /**
   * Loads the chosen patient again from the server, so what changes while the
   * picker is on the page (the patient texts STOP or START, their number is
   * edited) is current. A patient who could not be loaded (the server was
   * unreachable) is tried again. Does nothing while nobody is chosen.
   */
  async refresh(): Promise<void> {
    const current = this.patient;
    if (!current) {
      if (this.value && this.loadError) await this.loadPatient(this.value);
      return;
    }
    if (current.id !== this.value) return;
    await this.loadPatient(current.id, current);
  }

  /** Loads patient `id`; `shown` is the copy on screen when reloading it, kept if the reload fails. */
  private async loadPatient(id: string, shown: Patient | null = null): Promise<void> {
    if (!id) {
      const had = this.patient;
      this.patient = null;
      this.query = '';
      // The host cleared the patient (e.g. its chart shows all patients): the dialog must not act on the one before.
      if (had) this.dispatchEvent(new CarePatientChangeEvent(null));
      return;
    }
    if (!this.client) return;
    if (!shown && this.patient) {
      // Another patient is wanted: nothing may be done for the one still shown while they load.
      this.patient = null;
      this.query = '';
      this.dispatchEvent(new CarePatientChangeEvent(null));
    }
    this.loadError = '';
    try {
      const patient = await this.client.patients.get(id);
      // Chosen something else meanwhile, or started typing a new search.
      if (this.value !== id || (shown && this.patient !== shown)) return;
      if (shown && samePatient(shown, patient)) return;
      this.patient = patient;
      this.query = patient.name;
      this.dispatchEvent(new CarePatientChangeEvent(patient));
    } catch (error) {
      if (this.value !== id) return;
      // A failed reload leaves the patient as they were; the server still refuses what they opted out of.
      if (shown) console.warn('care-patient-picker: could not reload the patient', error);
      else
        this.loadError =
          error instanceof CareApiError && error.code === 'not_found'
            ? msg('This patient was not found, or is not shared with you. Search for the patient instead.')
            : msg('The patient could not be loaded. Check your connection, then close this and open it again.');
    }
  }

  private search(q: string): void {
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => void this.runSearch(q), SEARCH_DELAY_MS);
  }

  private async runSearch(q: string): Promise<void> {
    if (!this.client) return;
    this.searchAbort?.abort();
    const abort = (this.searchAbort = new AbortController());
    this.searching = true;
    this.searchError = '';
    try {
      const page = await this.client.patients.list({ q: q.trim(), limit: PAGE_SIZE }, { signal: abort.signal });
      if (abort.signal.aborted) return;
      this.results = page.items;
      this.more = page.nextCursor != null;
      this.activeIndex = page.items.length > 0 ? 0 : -1;
    } catch (error) {
      if (abort.signal.aborted) return;
      this.results = [];
      this.more = false;
      this.searchError = msg('Patients could not be loaded. Try again.');
      console.warn('care-patient-picker: search failed', error);
    } finally {
      if (!abort.signal.aborted) this.searching = false;
    }
  }

  private choose(patient: Patient): void {
    this.patient = patient;
    this.value = patient.id;
    this.query = patient.name;
    this.expanded = false;
    this.loadError = '';
    this.dispatchEvent(new CarePatientChangeEvent(patient));
  }

  private openList(): void {
    if (this.expanded) return;
    this.expanded = true;
    this.search(this.patient ? '' : this.query);
  }

  private onInput(event: InputEvent): void {
    this.query = (event.target as HTMLInputElement).value;
    this.expanded = true;
    this.loadError = '';
    if (this.patient) {
      this.patient = null;
      this.value = '';
      this.dispatchEvent(new CarePatientChangeEvent(null));
    }
    this.search(this.query);
  }

  private onKeyDown(event: KeyboardEvent): void {
    const count = this.results.length;
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        if (!this.expanded) this.openList();
        else if (count) this.activeIndex = (this.activeIndex + 1) % count;
        break;
      case 'ArrowUp':
        event.preventDefault();
        if (!this.expanded) this.openList();
        else if (count) this.activeIndex = (this.activeIndex - 1 + count) % count;
        break;
      case 'Enter': {
        const patient = this.expanded ? this.results[this.activeIndex] : undefined;
        if (patient) {
          event.preventDefault();
          this.choose(patient);
        }
        break;
      }
      case 'Escape':
        if (this.expanded) {
          // Close only the list; the enclosing dialog must not see this ESC.
          event.preventDefault();
          event.stopPropagation();
          this.expanded = false;
        }
        break;
    }
  }

  private onFocusOut(event: FocusEvent): void {
    if (!this.renderRoot.contains(event.relatedTarget as Node | null)) this.expanded = false;
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('activeIndex')) {
      this.renderRoot.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
    }
  }

  protected renderOption(patient: Patient, index: number) {
    return html`<li
      id="option-${index}"
      role="option"
      part="option"
      aria-selected=${index === this.activeIndex ? 'true' : 'false'}
      @pointerdown=${(e: Event) => e.preventDefault()}
      @click=${() => this.choose(patient)}
    >
      <span class="option-text">
        <span class="name">${patient.name}</span>
        <span class="meta">${patient.phoneDisplay ?? msg('No phone on file')}</span>
      </span>
      ${patient.optedOut ? html`<span class="tag">${msg('Opted out')}</span>` : nothing}
    </li>`;
  }

  protected renderListbox() {
    let hint: string | null = null;
    if (this.searchError) hint = this.searchError;
    else if (this.searching && this.results.length === 0) hint = msg('Searching…');
    else if (!this.searching && this.results.length === 0) hint = msg('No matching patients');
    return html`<ul id="listbox" role="listbox" part="listbox" aria-label=${msg('Patients')} ?hidden=${!this.expanded}>
      ${hint ? html`<li class="hint" role="presentation">${hint}</li>` : this.results.map((p, i) => this.renderOption(p, i))}
      ${!hint && this.more
        ? html`<li class="hint more" part="more" role="presentation">${msg(str`Showing the first ${this.results.length}. Type a name or number to find others.`)}</li>`
        : nothing}
    </ul>`;
  }

  protected renderSelected() {
    const patient = this.patient;
    if (!patient) return nothing;
    return html`<div class="selected" part="selected" id="selected">
      <span>${msg('Phone')}:</span>
      <span class="phone" part="phone">${patient.phoneDisplay ?? msg('No phone on file')}</span>
      ${patient.optedOut
        ? html`<span class="tag" part="opted-out">${blockedIcon} ${msg('Opted out of SMS')}</span>`
        : nothing}
    </div>`;
  }

  override render() {
    const active = this.expanded && this.activeIndex >= 0 && this.results.length > 0;
    return html`
      <label for="input" part="label">${this.label || msg('Patient')}</label>
      <div class="field" @focusout=${this.onFocusOut}>
        ${searchIcon}
        <input
          id="input"
          part="input"
          type="text"
          role="combobox"
          autocomplete="off"
          spellcheck="false"
          placeholder=${msg('Search by name or phone')}
          aria-autocomplete="list"
          aria-expanded=${this.expanded ? 'true' : 'false'}
          aria-controls="listbox"
          aria-activedescendant=${active ? `option-${this.activeIndex}` : nothing}
          aria-describedby=${this.patient ? 'selected' : nothing}
          .value=${this.query}
          @input=${this.onInput}
          @keydown=${this.onKeyDown}
          @click=${this.openList}
        />
        ${this.renderListbox()}
      </div>
      <span class="visually-hidden" role="status"
        >${this.expanded && !this.searching && this.results.length
          ? this.more
            ? msg(str`Showing the first ${this.results.length} patients; type to find others`)
            : this.results.length === 1
              ? msg('1 patient found')
              : msg(str`${this.results.length} patients found`)
          : ''}</span
      >
      ${this.loadError ? html`<p class="message danger" part="error" role="alert">${alertIcon}<span>${this.loadError}</span></p>` : nothing}
      ${this.renderSelected()}
    `;
  }
}
