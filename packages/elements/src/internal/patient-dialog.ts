import { LitElement, html, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { consume } from '@lit/context';
import type { Patient } from '@carecomms/core';
import type { CareClient } from '@carecomms/sdk';
import { careClientContext } from '../context.js';
import { careLocale } from '../localization.js';
import type { CareDialog } from '../dialog/dialog.js';
import type { CarePatientChangeEvent } from '../dialog-events.js';
import type { CarePatientPicker } from '../patient-picker/patient-picker.js';

/**
 * A count (of characters…) with the locale's digit grouping: 1,600 in English, 1600 in Spanish. For the SMS and
 * call dialogs; here rather than in format.ts, which the CDN entry carries, since only these lazy dialogs use it.
 */
export const formatCount = (n: number): string => n.toLocaleString(careLocale());

/**
 * What the SMS, call and video dialogs share: the client from `<care-comms>`,
 * the patient they are for, and being shown or hidden through `open`.
 */
export abstract class PatientDialogElement extends LitElement {
  /** The API client; provided by `<care-comms>` when inside one. */
  @consume({ context: careClientContext, subscribe: true })
  @property({ attribute: false })
  client?: CareClient;

  /** Patient to preselect. */
  @property({ attribute: 'patient-id' }) patientId = '';

  /** Whether the dialog is shown. */
  @property({ type: Boolean, reflect: true }) open = false;

  /** The patient chosen in the dialog's picker. */
  @state() protected patient: Patient | null = null;

  /**
   * The patient the picker shows: `patient-id` each time the dialog opens (so
   * it never opens on someone other than the chart's patient), then the
   * patient chosen, or none while the practitioner searches. A picker drawn
   * afresh (after Send another, or when a call ends) shows the patient the
   * dialog is still for, rather than being empty.
   */
  @state() private pickerValue = '';

  @query('care-dialog') protected dialog!: CareDialog;
  @query('care-patient-picker') protected picker!: CarePatientPicker | null;

  /** Opens the dialog. */
  show(): void {
    this.open = true;
  }

  /** Closes the dialog. */
  hide(): void {
    this.open = false;
  }

  /**
   * Here rather than in `willUpdate()` and `updated()`, which the dialogs
   * override. Opening reloads the chosen patient: whether they may be texted
   * or called changes while the dialog is closed (STOP and START arrive by SMS).
   */
  protected override update(changed: PropertyValues<this>): void {
    if (changed.has('patientId') || (changed.has('open') && this.open)) this.pickerValue = this.patientId;
    super.update(changed);
    if (changed.has('open') && this.open) void this.refreshPatient();
    if (changed.has('open') || changed.has('client')) this.watchPatient();
  }

  private unwatch: (() => void) | undefined;

  /**
   * While open, the patient is kept current: a STOP or START texted meanwhile
   * shows at once (the client's one shared event stream; no new connection).
   */
  private watchPatient(): void {
    this.unwatch?.();
    this.unwatch = undefined;
    if (!this.open || !this.client || !this.isConnected) return;
    this.unwatch = this.client.events.subscribe((event) => {
      if (event.type === 'patient.updated' && (event.data as Patient).id === this.patient?.id) void this.refreshPatient();
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.hasUpdated) this.watchPatient();
  }

  /**
   * While on, leaving or reloading the page asks first, and a page that goes
   * anyway calls `pageGone()`: a call in progress should not just vanish.
   * Turned on only during a call, so the page otherwise keeps its back/forward cache.
   */
  protected guardPage(on: boolean): void {
    const listen = on ? 'addEventListener' : 'removeEventListener';
    window[listen]('beforeunload', this.onBeforeUnload);
    window[listen]('pagehide', this.onPageHide);
  }

  /** The page is going during a call: end it for the patient too, with a request that outlives the page. */
  protected pageGone(): void {}

  private readonly onBeforeUnload = (event: BeforeUnloadEvent) => {
    event.preventDefault();
    event.returnValue = '';
  };
  private readonly onPageHide = () => this.pageGone();

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.guardPage(false);
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /** Focuses `selector` once it is shown: a newly slotted footer appears only after the dialog's slotchange. */
  protected async focusAfterRender(selector: string): Promise<void> {
    await this.updateComplete;
    await new Promise(requestAnimationFrame);
    await this.dialog?.updateComplete;
    this.renderRoot.querySelector<HTMLElement>(selector)?.focus();
  }

  /** Loads the chosen patient again; `onPatientChange` follows if their details changed. */
  protected refreshPatient(): Promise<void> {
    return this.picker?.refresh() ?? Promise.resolve();
  }

  /** A patient was picked, or reloaded with new details; subclasses also clear what belonged to another patient. */
  protected onPatientChange(event: CarePatientChangeEvent): void {
    this.patient = event.patient;
    // The picker's own value: the patient chosen, the one it is loading, or none while the practitioner searches.
    this.pickerValue = (event.target as CarePatientPicker).value;
  }

  /**
   * Whether the dialog opens with focus in the patient search: it does unless
   * a subclass has somewhere better to start once a patient is chosen (the
   * SMS dialog's message box).
   */
  protected get searchFirst(): boolean {
    return true;
  }

  /** Whether the dialog opened on a patient (`patient-id`, or one chosen since). */
  protected get hasPickedPatient(): boolean {
    return this.pickerValue !== '';
  }

  /** The patient picker, preselecting `patient-id` or the patient chosen since. */
  protected renderPicker() {
    return html`<care-patient-picker
      part="picker"
      exportparts="input: picker-input, option: picker-option, phone: picker-phone"
      ?autofocus=${this.searchFirst}
      .client=${this.client}
      .value=${this.pickerValue}
      @care-patient-change=${this.onPatientChange}
    ></care-patient-picker>`;
  }
}
