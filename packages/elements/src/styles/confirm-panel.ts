import { css } from 'lit';

/**
 * The "are you sure?" panel the call and video dialogs show before ending
 * (`.confirm`, `.confirm-title`, `.confirm-actions`): its look. Each dialog
 * lays it out its own way (stacked in the call dialog, a row in the video one).
 * Dialog-only: kept out of `shared.ts`, which the CDN entry carries.
 */
export const confirmPanel = css`
  .confirm {
    padding: 0.875rem 1rem;
    border: 1px solid var(--_care-color-danger);
    border-radius: var(--_care-radius);
    background: var(--_care-color-danger-surface);
  }
  .confirm p {
    margin: 0;
  }
  .confirm-title {
    font-weight: 700;
  }
  .confirm-actions {
    display: flex;
    gap: 0.5rem;
  }
`;
