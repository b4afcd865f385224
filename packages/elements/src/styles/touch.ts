import { css } from 'lit';

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
