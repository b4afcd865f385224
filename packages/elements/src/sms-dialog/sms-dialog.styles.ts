import { css } from 'lit';

export const smsDialogStyles = css`
  :host {
    display: contents;
  }
  form {
    display: grid;
    gap: 1.25rem;
  }
  .field label {
    display: block;
    margin-bottom: 0.375rem;
    font-weight: 600;
  }
  textarea {
    display: block;
    width: 100%;
    min-height: 8rem;
    resize: vertical;
    padding: 0.625rem 0.75rem;
    border: 1px solid var(--_care-color-border-strong);
    border-radius: var(--_care-radius);
    background: var(--_care-color-surface);
    color: inherit;
    font: inherit;
    font-size: max(1rem, 16px);
    line-height: 1.5;
  }
  textarea:focus-visible {
    outline: 2px solid var(--_care-color-focus);
    outline-offset: 0;
    border-color: var(--_care-color-focus);
  }
  textarea:disabled {
    background: var(--_care-color-surface-sunken);
    cursor: not-allowed;
  }
  .counter {
    display: flex;
    flex-wrap: wrap;
    justify-content: space-between;
    gap: 0.25rem 1rem;
    margin-top: 0.375rem;
    color: var(--_care-color-text-muted);
    font-size: 0.8125rem;
    font-variant-numeric: tabular-nums;
  }
  .message {
    margin-top: 0.5rem;
  }
  .sent {
    display: grid;
    justify-items: center;
    gap: 0.5rem;
    padding: 1.5rem 0.5rem;
    text-align: center;
  }
  .sent .icon {
    width: 2.75rem;
    height: 2.75rem;
    color: var(--_care-color-success);
  }
  .sent h3 {
    margin: 0;
    font-size: 1.125rem;
  }
  .sent p {
    margin: 0;
    color: var(--_care-color-text-muted);
  }
`;
