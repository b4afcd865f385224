import { css } from 'lit';

export const actionBarStyles = css`
  :host {
    display: block;
  }
  .bar {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.75rem 1rem;
    padding: 0.875rem 1rem;
    border-radius: var(--_care-radius-large);
    background: var(--_care-action-bar-background);
    color: var(--_care-action-bar-color);
  }
  .heading {
    flex: 1 1 12rem;
    min-width: 0;
  }
  .heading ::slotted(*) {
    margin: 0;
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
  }
  .action {
    display: inline-flex;
    align-items: center;
    gap: 0.5rem;
    min-height: 2.75rem;
    padding: 0.5rem 1rem;
    border: 1px solid rgb(255 255 255 / 0.35);
    border-radius: 999px;
    background: var(--_care-action-button-background);
    color: inherit;
    font: inherit;
    font-weight: 600;
    white-space: nowrap;
    cursor: pointer;
    transition: background-color 120ms ease;
  }
  .action:hover {
    background: var(--_care-action-button-background-hover);
  }
  .action:focus-visible {
    outline-color: currentColor;
  }
  /* Phones: three equal buttons, icon over label. */
  @media (max-width: 480px) {
    .actions {
      flex: 1 1 100%;
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(0, 1fr));
    }
    .action {
      flex-direction: column;
      gap: 0.25rem;
      padding: 0.5rem 0.25rem;
      border-radius: var(--_care-radius);
      font-size: 0.8125rem;
      white-space: normal;
      text-align: center;
    }
  }
`;
