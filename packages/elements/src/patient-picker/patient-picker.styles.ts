import { css } from 'lit';

export const patientPickerStyles = css`
  :host {
    display: block;
    position: relative;
  }
  label {
    display: block;
    margin-bottom: 0.375rem;
    font-weight: 600;
  }
  .field {
    position: relative;
    display: flex;
    align-items: center;
  }
  .field .icon {
    position: absolute;
    left: 0.75rem;
    color: var(--_care-color-text-muted);
    pointer-events: none;
  }
  input {
    width: 100%;
    min-height: 2.75rem;
    padding: 0.5rem 0.75rem 0.5rem 2.5rem;
    border: 1px solid var(--_care-color-border-strong);
    border-radius: var(--_care-radius);
    background: var(--_care-color-surface);
    color: inherit;
    font: inherit;
    /* 16px keeps iOS Safari from zooming into the field. */
    font-size: max(1rem, 16px);
  }
  input:focus-visible {
    outline: 2px solid var(--_care-color-focus);
    outline-offset: 0;
    border-color: var(--_care-color-focus);
  }
  [role='listbox'] {
    position: absolute;
    z-index: 2;
    /* Below the field: without a top, the flex row's centring would lay it over the input. */
    top: 100%;
    left: 0;
    right: 0;
    margin: 0.25rem 0 0;
    padding: 0.25rem;
    max-height: 16rem;
    overflow: auto;
    list-style: none;
    border: 1px solid var(--_care-color-border);
    border-radius: var(--_care-radius);
    background: var(--_care-color-surface-raised);
    box-shadow: var(--_care-shadow-dialog);
  }
  [role='option'] {
    display: flex;
    align-items: center;
    gap: 0.75rem;
    padding: 0.5rem 0.625rem;
    border-radius: calc(var(--_care-radius) - 2px);
    cursor: pointer;
  }
  [role='option'][aria-selected='true'] {
    background: var(--_care-color-surface-sunken);
    outline: 2px solid var(--_care-color-focus);
    outline-offset: -2px;
  }
  .name {
    font-weight: 600;
  }
  .meta {
    color: var(--_care-color-text-muted);
    font-size: 0.875em;
  }
  .option-text {
    flex: 1;
    min-width: 0;
    display: flex;
    flex-direction: column;
  }
  .tag {
    flex: none;
    display: inline-flex;
    align-items: center;
    gap: 0.25rem;
    padding: 0.125rem 0.5rem;
    border-radius: 999px;
    font-size: 0.75rem;
    font-weight: 600;
    color: var(--_care-color-warning);
    background: var(--_care-color-warning-surface);
  }
  .hint {
    padding: 0.625rem;
    color: var(--_care-color-text-muted);
  }
  .selected {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.375rem 0.75rem;
    margin-top: 0.5rem;
    padding: 0.625rem 0.75rem;
    border-radius: var(--_care-radius);
    background: var(--_care-color-surface-sunken);
  }
  .message {
    margin-top: 0.5rem;
  }
  .phone {
    font-variant-numeric: tabular-nums;
    font-weight: 600;
  }
`;
