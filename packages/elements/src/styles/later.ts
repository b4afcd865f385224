import { css } from 'lit';

/*
 * Rules the CDN entry does without: for the dialogs and the patient's video
 * page, which load later. `base` (styles/shared.ts) is in the entry, so what
 * only they use lives here.
 */

/**
 * On touch screens (a coarse pointer: a tablet on a ward round, a phone),
 * buttons, selects and the dialog's close button are at least 44 px, the
 * fingertip size of WCAG 2.5.5 and Apple's guidelines; with a mouse they keep
 * their 40 px. Not in `base`: that is in the CDN entry, whose bar and filter
 * chips are sized for touch already or spaced for it, and these rules are for
 * the dialogs and the patient's video page, which load later.
 */
export const touchTargets = css`
  @media (pointer: coarse) {
    .button,
    select,
    .close {
      min-height: 2.75rem;
    }
    .close {
      width: 2.75rem;
      height: 2.75rem;
    }
  }
`;

/** A warning, next to `base`'s `.message` and `.message.danger`: opted out, no mobile number, voice only. */
export const warningMessage = css`
  .message.warning {
    color: var(--_care-color-warning);
    background: var(--_care-color-warning-surface);
  }
`;

/** Design tokens (see styles/tokens.ts) only the elements that load later use: after `tokens`, in their styles. */
export const laterTokens = css`
  :host {
    --_care-color-border-strong: var(--care-color-border-strong, light-dark(#8792a2, #6b7686));
    --_care-color-warning-surface: var(--care-color-warning-surface, light-dark(#fffaeb, #33260b));
    --_care-backdrop: var(--care-backdrop, rgb(15 23 42 / 0.55));
    --_care-shadow: var(--care-shadow, 0 1px 2px rgb(16 24 40 / 0.06), 0 1px 3px rgb(16 24 40 / 0.1));
    --_care-shadow-dialog: var(--care-shadow-dialog, 0 24px 48px -12px rgb(16 24 40 / 0.35));
  }
`;
