import { css } from 'lit';

export const dialogStyles = css`
  :host {
    display: contents;
  }
  dialog {
    width: min(34rem, calc(100vw - 2rem));
    max-height: min(44rem, calc(100dvh - 2rem));
    padding: 0;
    border: 1px solid var(--_care-color-border);
    border-radius: var(--_care-radius-large);
    background: var(--_care-color-surface-raised);
    color: var(--_care-color-text);
    box-shadow: var(--_care-shadow-dialog);
    overflow: hidden;
  }
  dialog[open] {
    display: flex;
    flex-direction: column;
    animation: care-dialog-in 160ms ease-out;
  }
  dialog::backdrop {
    background: var(--_care-backdrop);
  }
  .header {
    display: flex;
    align-items: center;
    gap: 0.75rem;
    padding: 1rem 1rem 0.75rem 1.25rem;
    border-bottom: 1px solid var(--_care-color-border);
  }
  .title {
    flex: 1;
    margin: 0;
    font-size: 1.125rem;
    font-weight: 650;
    line-height: 1.3;
  }
  .close {
    display: inline-grid;
    place-items: center;
    width: 2.5rem;
    height: 2.5rem;
    border: 0;
    border-radius: 50%;
    background: transparent;
    color: var(--_care-color-text-muted);
    cursor: pointer;
  }
  .close:hover {
    background: var(--_care-color-surface-sunken);
    color: var(--_care-color-text);
  }
  .body {
    flex: 1;
    overflow: auto;
    overscroll-behavior: contain;
    padding: 1.25rem;
  }
  .footer {
    display: flex;
    flex-wrap: wrap;
    justify-content: flex-end;
    gap: 0.5rem;
    padding: 0.75rem 1.25rem 1rem;
    border-top: 1px solid var(--_care-color-border);
  }
  .footer.empty {
    display: none;
  }
  /* A phone gets a full-screen sheet: more room for the keyboard and the form. */
  @media (max-width: 600px) {
    dialog {
      width: 100vw;
      max-width: 100vw;
      height: 100dvh;
      max-height: 100dvh;
      margin: 0;
      border: 0;
      border-radius: 0;
    }
    dialog[open] {
      animation-name: care-sheet-in;
    }
    .footer {
      padding-bottom: max(1rem, env(safe-area-inset-bottom));
    }
    .footer ::slotted(*) {
      flex: 1;
    }
  }
  @keyframes care-dialog-in {
    from {
      opacity: 0;
      transform: translateY(8px) scale(0.98);
    }
  }
  @keyframes care-sheet-in {
    from {
      transform: translateY(24px);
      opacity: 0;
    }
  }
`;
