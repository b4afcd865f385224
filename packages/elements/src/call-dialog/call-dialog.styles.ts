import { css } from 'lit';

export const callDialogStyles = css`
  :host {
    display: contents;
  }
  .content {
    display: grid;
    gap: 1.25rem;
  }
  .field label {
    display: block;
    margin-bottom: 0.375rem;
    font-weight: 600;
  }
  select,
  textarea {
    display: block;
    width: 100%;
    border: 1px solid var(--_care-color-border-strong);
    border-radius: var(--_care-radius);
    background: var(--_care-color-surface);
    color: inherit;
    font: inherit;
    font-size: max(1rem, 16px);
  }
  select {
    min-height: 2.5rem;
    padding: 0.375rem 0.5rem;
  }
  textarea {
    min-height: 6rem;
    resize: vertical;
    padding: 0.625rem 0.75rem;
    line-height: 1.5;
  }
  select:focus-visible,
  textarea:focus-visible {
    outline: 2px solid var(--_care-color-focus);
    outline-offset: 0;
    border-color: var(--_care-color-focus);
  }
  select:disabled {
    background: var(--_care-color-surface-sunken);
    cursor: not-allowed;
  }
  .microphone-row {
    display: flex;
    align-items: center;
    gap: 0.75rem;
  }
  .microphone-row select {
    flex: 1;
    min-width: 0;
  }
  .level {
    flex: none;
    inline-size: 5rem;
    block-size: 0.5rem;
    border-radius: 999px;
    background: var(--_care-color-surface-sunken);
    border: 1px solid var(--_care-color-border);
    overflow: hidden;
  }
  .level span {
    display: block;
    block-size: 100%;
    background: var(--_care-color-success);
    transition: inline-size 80ms linear;
  }

  .call {
    display: grid;
    grid-template-columns: auto minmax(0, 1fr) auto;
    grid-template-areas:
      'avatar who timer'
      'avatar status status'
      'recording recording recording';
    align-items: center;
    gap: 0.25rem 0.875rem;
    padding: 1rem;
    border-radius: var(--_care-radius-large);
    background: var(--_care-color-voice-surface);
    color: var(--_care-color-text);
  }
  .avatar {
    grid-area: avatar;
    inline-size: 3rem;
    block-size: 3rem;
    border-radius: 50%;
    display: grid;
    place-items: center;
    font-size: 1.25rem;
    font-weight: 700;
    background: var(--_care-color-voice);
    color: var(--_care-color-voice-surface);
  }
  .who {
    grid-area: who;
    min-inline-size: 0;
  }
  .name {
    margin: 0;
    font-size: 1.0625rem;
    font-weight: 700;
    overflow-wrap: anywhere;
  }
  .phone {
    margin: 0;
    color: var(--_care-color-text-muted);
    font-variant-numeric: tabular-nums;
  }
  .status {
    grid-area: status;
    margin: 0;
    font-weight: 600;
  }
  .status.hold {
    color: var(--_care-color-warning);
  }
  .status.danger {
    color: var(--_care-color-danger);
  }
  .status.reconnecting {
    color: var(--_care-color-warning);
  }
  .timer {
    grid-area: timer;
    margin: 0;
    font-size: 1.375rem;
    font-weight: 700;
    font-variant-numeric: tabular-nums;
  }
  .timer[hidden] {
    display: none;
  }
  .recording {
    grid-area: recording;
    margin: 0.25rem 0 0;
    color: var(--_care-color-text-muted);
    font-size: 0.8125rem;
  }

  .controls {
    display: grid;
    grid-template-columns: repeat(3, minmax(0, 1fr));
    gap: 0.5rem;
  }
  /* Muted, on hold: the label says what pressing does (Unmute, Resume), so the state is a data attribute, not aria-pressed. */
  .button.toggle[data-on] {
    background: var(--_care-color-primary);
    border-color: var(--_care-color-primary);
    color: var(--_care-color-on-primary);
  }
  .button.danger {
    background: var(--_care-color-danger);
    border-color: var(--_care-color-danger);
    color: var(--_care-color-danger-surface);
  }
  .button.danger:hover:not(:disabled) {
    background: var(--_care-color-danger);
    filter: brightness(1.1);
  }

  .notes-state {
    margin: 0.375rem 0 0;
    min-block-size: 1.25em;
    color: var(--_care-color-text-muted);
    font-size: 0.8125rem;
  }
  .notes-state.error {
    color: var(--_care-color-danger);
  }

  .confirm {
    display: grid;
    gap: 0.5rem;
  }
  .confirm-actions {
    flex-wrap: wrap;
    justify-content: flex-end;
  }

  @media (max-width: 420px) {
    .controls {
      grid-template-columns: 1fr 1fr;
    }
    .controls [part~='end-button'] {
      grid-column: 1 / -1;
    }
  }
`;
