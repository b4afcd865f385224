import { css } from 'lit';

export const correspondenceListStyles = css`
  :host {
    display: block;
  }
  .toolbar {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    justify-content: space-between;
    gap: 0.5rem 1rem;
    margin-bottom: 0.75rem;
  }
  .filter {
    display: flex;
    flex-wrap: wrap;
    gap: 0.375rem;
    margin: 0;
    padding: 0;
    border: 0;
    min-width: 0;
  }
  .chip {
    position: relative;
    display: inline-flex;
    align-items: center;
    gap: 0.375rem;
    min-height: 2.25rem;
    padding: 0.25rem 0.75rem;
    border: 1px solid var(--_care-color-border);
    border-radius: 999px;
    background: var(--_care-color-surface);
    color: var(--_care-color-text);
    font-weight: 600;
    cursor: pointer;
    user-select: none;
  }
  .chip input {
    position: absolute;
    inset: 0;
    margin: 0;
    opacity: 0;
    cursor: pointer;
  }
  .chip:has(input:focus-visible) {
    outline: 2px solid var(--_care-color-focus);
    outline-offset: 2px;
  }
  .chip:has(input:checked) {
    border-color: var(--_care-color-primary);
    background: var(--_care-color-primary);
    color: var(--_care-color-on-primary);
  }
  .chip .icon {
    width: 1.1em;
    height: 1.1em;
  }
  .live {
    display: inline-flex;
    align-items: center;
    gap: 0.375rem;
    color: var(--_care-color-text-muted);
    font-size: 0.8125rem;
  }
  .live::before {
    content: '';
    width: 0.5rem;
    height: 0.5rem;
    border-radius: 50%;
    background: var(--_care-color-success);
  }
  .live.reconnecting::before {
    background: var(--_care-color-warning);
  }
  .list {
    border: 1px solid var(--_care-color-border);
    border-radius: var(--_care-radius-large);
    background: var(--_care-color-surface);
  }
  .row:last-child {
    border-bottom: 0;
  }
  .row {
    display: flex;
    flex-direction: column;
    gap: 0.375rem;
    width: 100%;
    padding: 0.75rem 1rem;
    border-bottom: 1px solid var(--_care-color-border);
  }
  /* The plain rows out of view are laid out only when they come near it (the
     virtualised rows past them are only ever rendered in view): a first page
     of 100 rows costs about what the rows on screen cost. They stay in the
     document and the accessibility tree. */
  [role='list'] > .row {
    content-visibility: auto;
    contain-intrinsic-size: auto 4.5rem;
  }
  .badge {
    display: inline-flex;
    align-items: center;
    gap: 0.3rem;
    align-self: start;
    min-width: 4.75rem;
    padding: 0.2rem 0.55rem;
    border-radius: 999px;
    font-size: 0.75rem;
    font-weight: 700;
    letter-spacing: 0.01em;
  }
  .badge .icon {
    width: 1em;
    height: 1em;
  }
  .badge.sms {
    color: var(--_care-color-sms);
    background: var(--_care-color-sms-surface);
  }
  .badge.email {
    color: var(--_care-color-email);
    background: var(--_care-color-email-surface);
  }
  .badge.voice {
    color: var(--_care-color-voice);
    background: var(--_care-color-voice-surface);
  }
  .badge.video {
    color: var(--_care-color-video);
    background: var(--_care-color-video-surface);
  }
  .meta {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.25rem 0.75rem;
    min-width: 0;
  }
  .patient {
    font-weight: 650;
  }
  .direction,
  .contact,
  .when,
  .detail {
    display: inline-flex;
    align-items: center;
    gap: 0.25rem;
    color: var(--_care-color-text-muted);
  }
  care-entry-details {
    display: contents;
  }
  .play {
    border: 0;
    padding: 0;
    background: none;
    font: inherit;
    color: var(--_care-color-primary);
    cursor: pointer;
  }
  .play:disabled {
    cursor: progress;
  }
  audio {
    flex: 1 1 100%;
    max-width: 22rem;
    height: 2.25rem;
  }
  .direction .icon,
  .detail .icon {
    width: 1em;
    height: 1em;
  }
  .when {
    margin-left: auto;
    font-variant-numeric: tabular-nums;
    white-space: nowrap;
  }
  .status {
    padding: 0 0.45rem;
    border-radius: 4px;
    font-size: 0.75rem;
    font-weight: 600;
    background: var(--_care-color-surface-sunken);
    color: var(--_care-color-text-muted);
  }
  .status.danger {
    color: var(--_care-color-danger);
    background: var(--_care-color-danger-surface);
  }
  .status.success {
    color: var(--_care-color-success);
    background: var(--_care-color-success-surface);
  }
  .content {
    display: flex;
    flex-wrap: wrap;
    gap: 0.25rem 1rem;
    min-width: 0;
  }
  .reason {
    flex: 1 1 100%;
    margin: 0;
    display: flex;
    align-items: center;
    gap: 0.375rem;
    color: var(--_care-color-danger);
    font-size: 0.8125rem;
  }
  /* A long email address or body wraps anywhere rather than widen the row. */
  .body,
  .contact {
    overflow-wrap: anywhere;
  }
  /* Whole, never clamped: a patient's question in the last lines of a long text must not hide behind an ellipsis. */
  .body {
    flex: 1 1 100%;
    margin: 0;
    white-space: pre-wrap;
  }
  .recording {
    color: var(--_care-color-danger);
  }
  .state {
    display: grid;
    justify-items: center;
    gap: 0.75rem;
    padding: 2.5rem 1rem;
    text-align: center;
    color: var(--_care-color-text-muted);
  }
  .state .icon {
    width: 2rem;
    height: 2rem;
  }
  .state.error {
    color: var(--_care-color-danger);
  }
  .state p {
    margin: 0;
  }
  .skeleton {
    height: 0.9rem;
    border-radius: 4px;
    background: var(--_care-skeleton);
    animation: care-pulse 1.2s ease-in-out infinite alternate;
  }
  .skeleton.badge {
    height: 1.4rem;
    width: 4.75rem;
  }
  .footer-state {
    padding: 0.75rem 1rem;
    text-align: center;
    color: var(--_care-color-text-muted);
  }
  @keyframes care-pulse {
    to {
      opacity: 0.45;
    }
  }
`;
