import { css } from 'lit';

/** Base typography, focus ring, buttons and helpers every element shares. */
export const base = css`
  :host {
    font-family: var(--_care-font-family);
    font-size: var(--_care-font-size);
    line-height: 1.45;
    color: var(--_care-color-text);
  }
  :host([hidden]) {
    display: none !important;
  }
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  :focus-visible {
    outline: 2px solid var(--_care-color-focus);
    outline-offset: 2px;
  }
  .visually-hidden {
    position: absolute !important;
    width: 1px;
    height: 1px;
    padding: 0;
    margin: -1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
  .icon {
    width: 1.25em;
    height: 1.25em;
    flex: none;
  }
  .button {
    display: inline-flex;
    align-items: center;
    justify-content: center;
    gap: 0.5em;
    min-height: 2.5rem;
    padding: 0.5rem 1rem;
    border-radius: var(--_care-radius);
    border: 1px solid var(--_care-color-border);
    background: var(--_care-color-surface-raised);
    color: var(--_care-color-text);
    font: inherit;
    font-weight: 600;
    cursor: pointer;
  }
  .button:hover:not(:disabled) {
    background: var(--_care-color-surface-sunken);
  }
  .button.primary {
    background: var(--_care-color-primary);
    border-color: var(--_care-color-primary);
    color: var(--_care-color-on-primary);
  }
  .button.primary:hover:not(:disabled) {
    background: var(--_care-color-primary);
    filter: brightness(1.12);
  }
  .button:disabled {
    cursor: not-allowed;
    opacity: 0.55;
  }
  .message {
    display: flex;
    gap: 0.5rem;
    align-items: flex-start;
    padding: 0.625rem 0.75rem;
    border-radius: var(--_care-radius);
    border: 1px solid currentColor;
    margin: 0;
  }
  .message.danger {
    color: var(--_care-color-danger);
    background: var(--_care-color-danger-surface);
  }
  @media (prefers-reduced-motion: reduce) {
    *,
    *::before,
    *::after {
      animation-duration: 0.01ms !important;
      transition-duration: 0.01ms !important;
    }
  }
`;
