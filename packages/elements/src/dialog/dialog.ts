import { LitElement, html } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { localized, msg } from '@lit/localize';
import { CareCloseEvent, CareRequestCloseEvent, type CloseSource } from '../dialog-events.js';
import { closeIcon } from '../dialog-icons.js';
import { base } from '../styles/shared.js';
import { laterTokens, touchTargets } from '../styles/later.js';
import { tokens } from '../styles/tokens.js';
import { dialogStyles } from './dialog.styles.js';

/** The focused element, looking through open shadow roots. */
function deepActiveElement(): HTMLElement | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active instanceof HTMLElement ? active : null;
}

/**
 * @tagname care-dialog
 * @summary The modal every CareComms dialog builds on: a native `<dialog>`
 * opened with `showModal()`, labelled by its title, closed by ESC, a backdrop
 * click or the close button, and returning focus to whatever opened it.
 * Below 600px wide it becomes a full-screen sheet.
 *
 * @slot - The dialog's content.
 * @slot footer - Actions, laid out at the end (full width on phones).
 *
 * @csspart dialog - The native `<dialog>` element.
 * @csspart header - The title row.
 * @csspart title - The heading that labels the dialog.
 * @csspart close-button - The close (×) button.
 * @csspart body - The scrolling content area.
 * @csspart footer - The actions row.
 *
 * @cssproperty --care-backdrop - Colour behind the dialog.
 * @cssproperty --care-shadow-dialog - Shadow of the dialog.
 * @cssproperty --care-radius-large - Corner radius of the dialog.
 *
 * @fires care-request-close - Before closing because of ESC, backdrop or close button; cancel it to keep the dialog open.
 * @fires care-close - After the dialog closed.
 */
@localized()
export class CareDialog extends LitElement {
  static override styles = [tokens, laterTokens, base, dialogStyles, touchTargets];

  /** Whether the dialog is shown. Setting it opens or closes the dialog without asking. */
  @property({ type: Boolean, reflect: true }) open = false;

  /** The dialog's title; also its accessible name. */
  @property() label = '';

  @state() private hasFooter = false;

  @query('dialog') private dialog!: HTMLDialogElement;

  private opener: HTMLElement | null = null;
  private pointerDownOnBackdrop = false;

  override updated(changed: Map<string, unknown>): void {
    if (!changed.has('open')) return;
    if (this.open && !this.dialog.open) {
      this.opener = deepActiveElement();
      this.dialog.showModal();
      void this.focusInitial();
    } else if (!this.open && this.dialog.open) {
      this.dialog.close();
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.opener = null;
  }

  /** Opens the dialog; focus moves into it and comes back to the current focus on close. */
  show(): void {
    this.open = true;
  }

  /** Closes the dialog at once, without `care-request-close`. */
  hide(): void {
    this.open = false;
  }

  /**
   * Asks to close, as ESC or the close button do: fires the cancelable
   * `care-request-close` and closes unless a listener prevented it.
   * Returns whether the dialog closed.
   */
  requestClose(source: CloseSource = 'api'): boolean {
    const allowed = this.dispatchEvent(new CareRequestCloseEvent(source));
    if (allowed) this.hide();
    return allowed;
  }

  /** Moves focus to the content's `[autofocus]` element, or else the close button. */
  private async focusInitial(): Promise<void> {
    const target = this.querySelector<HTMLElement>('[autofocus]') ?? this.renderRoot.querySelector<HTMLElement>('.close');
    // A slotted custom element may not have rendered its focusable inside yet.
    if (target && 'updateComplete' in target) await (target as HTMLElement & { updateComplete: Promise<unknown> }).updateComplete;
    if (this.open) target?.focus();
  }

  private onKeyDown(event: KeyboardEvent): void {
    // Handled here rather than through the native `cancel` event so a listener can
    // veto the close every time (Chromium stops honouring a vetoed cancel on repeat).
    if (event.key === 'Escape' && !event.defaultPrevented) {
      event.preventDefault();
      this.requestClose('escape');
    }
  }

  private onCancel(event: Event): void {
    event.preventDefault();
    this.requestClose('escape');
  }

  private onPointerDown(event: PointerEvent): void {
    this.pointerDownOnBackdrop = event.target === this.dialog;
  }

  private onClick(event: MouseEvent): void {
    // The panel fills the <dialog> box, so a click that lands on the <dialog>
    // itself is on the backdrop. Both press and release must be there, so a text
    // selection dragged out of the dialog does not close it.
    if (event.target === this.dialog && this.pointerDownOnBackdrop) this.requestClose('backdrop');
    this.pointerDownOnBackdrop = false;
  }

  private onClose(): void {
    this.open = false;
    const opener = this.opener;
    this.opener = null;
    if (opener?.isConnected) opener.focus();
    this.dispatchEvent(new CareCloseEvent());
  }

  private onFooterSlotChange(event: Event): void {
    this.hasFooter = (event.target as HTMLSlotElement).assignedElements().length > 0;
  }

  protected renderHeader() {
    return html`<header class="header" part="header">
      <h2 class="title" id="title" part="title">${this.label}</h2>
      <button
        class="close"
        part="close-button"
        type="button"
        aria-label=${msg('Close')}
        @click=${() => this.requestClose('close-button')}
      >
        ${closeIcon}
      </button>
    </header>`;
  }

  override render() {
    return html`<dialog
      part="dialog"
      aria-labelledby="title"
      @keydown=${this.onKeyDown}
      @cancel=${this.onCancel}
      @close=${this.onClose}
      @pointerdown=${this.onPointerDown}
      @click=${this.onClick}
    >
      ${this.renderHeader()}
      <div class="body" part="body"><slot></slot></div>
      <footer class="footer ${this.hasFooter ? '' : 'empty'}" part="footer">
        <slot name="footer" @slotchange=${this.onFooterSlotChange}></slot>
      </footer>
    </dialog>`;
  }
}
