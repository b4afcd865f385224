import { css } from 'lit';

export const videoDialogStyles = css`
  :host {
    display: contents;
  }
  /* A call needs room: the dialog widens while one is on (a phone's full-screen sheet stays as it is). */
  @media (min-width: 601px) {
    care-dialog.in-call::part(dialog) {
      width: min(68rem, calc(100vw - 2rem));
      max-height: calc(100dvh - 2rem);
    }
  }
  .pick {
    display: grid;
    gap: 1.25rem;
  }
  .hint {
    margin: 0;
    color: var(--_care-color-text-muted);
  }
  .call {
    display: grid;
    grid-template-columns: minmax(0, 1fr) 18rem;
    gap: 1.25rem;
    align-items: start;
  }
  .main {
    display: grid;
    gap: 0.75rem;
    min-width: 0;
  }
  /* Its column is 18rem whatever it holds: a long device name is cut short in its picker, not widening the column past the dialog. */
  .side {
    display: grid;
    grid-template-columns: minmax(0, 1fr);
    gap: 1.25rem;
    min-width: 0;
  }
  .side .devices {
    grid-template-columns: minmax(0, 1fr);
  }
  .call-status {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    margin: 0;
    font-weight: 600;
    min-height: 1.5rem;
  }
  .call-status::before {
    content: '';
    width: 0.625rem;
    height: 0.625rem;
    border-radius: 50%;
    background: var(--_care-color-border-strong);
  }
  .call-status.connected::before {
    background: var(--_care-color-success);
  }
  .call-status.waiting::before {
    background: var(--_care-color-video);
  }
  .call-status.reconnecting::before {
    background: var(--_care-color-warning);
  }
  .join-link {
    display: grid;
    grid-template-columns: minmax(0, 1fr);
    gap: 0.625rem;
    padding: 1rem;
    border: 1px solid var(--_care-color-border);
    border-left: 4px solid var(--_care-color-video);
    border-radius: var(--_care-radius);
    background: var(--_care-color-surface-sunken);
  }
  .join-link h3 {
    margin: 0;
    font-size: 1rem;
  }
  /* The link beside Copy when there is room for both, else the link on its own line and Copy under it, as wide. */
  .link-row {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
  }
  .link-row .button {
    flex: 1 0 auto;
  }
  /* The whole link is shown, wrapped over as many lines as it takes: the field grows with a hidden copy of its text. */
  .link-field {
    display: grid;
    flex: 999 1 14rem;
    min-width: 0;
  }
  .link-field > textarea,
  .link-field::after {
    grid-area: 1 / 1;
    box-sizing: border-box;
    min-width: 0;
    min-height: 2.5rem;
    margin: 0;
    padding: 0.5rem;
    border: 1px solid var(--_care-color-border-strong);
    border-radius: var(--_care-radius);
    font: inherit;
    font-size: 0.8125rem;
    line-height: 1.4;
    white-space: pre-wrap;
    word-break: break-all;
  }
  .link-field::after {
    content: attr(data-value) ' ';
    visibility: hidden;
  }
  .link-field > textarea {
    overflow: hidden;
    resize: none;
    background: var(--_care-color-surface);
    color: inherit;
  }
  .link-status {
    display: flex;
    align-items: center;
    gap: 0.375rem;
    min-height: 1.25rem;
    margin: 0;
    color: var(--_care-color-success);
    font-weight: 600;
  }
  .link-status:empty {
    display: none;
  }
  .note {
    margin: 0;
    color: var(--_care-color-text-muted);
    font-size: 0.8125rem;
  }
  .confirm {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    justify-content: space-between;
    gap: 0.75rem 1.5rem;
    margin-bottom: 1rem;
  }
  .button.danger {
    background: var(--_care-video-end);
    border-color: var(--_care-video-end);
    color: var(--_care-video-on-end);
  }
  .button.danger:hover:not(:disabled) {
    background: var(--_care-video-end);
    filter: brightness(1.1);
  }
  .summary {
    display: grid;
    justify-items: center;
    gap: 0.5rem;
    padding: 1.5rem 0.5rem;
    text-align: center;
  }
  .summary > .icon {
    width: 2.75rem;
    height: 2.75rem;
    color: var(--_care-color-video);
  }
  .summary h3 {
    margin: 0;
    font-size: 1.125rem;
  }
  .summary p {
    margin: 0;
    color: var(--_care-color-text-muted);
  }
  .duration {
    font-variant-numeric: tabular-nums;
    font-weight: 600;
    color: var(--_care-color-text);
  }
  @media (max-width: 800px) {
    .call {
      grid-template-columns: minmax(0, 1fr);
    }
    .side .devices {
      grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr));
    }
  }
  @media (max-width: 600px) {
    .remote-tile {
      aspect-ratio: 3 / 4;
    }
  }
`;
