import { css } from 'lit';

/**
 * Design tokens of the video elements only (kept out of `tokens` so pages
 * without video do not load them): the dark stage video sits on in both
 * themes, and what is drawn on it. Same pattern as `tokens`: public
 * `--care-*` names, read through private `--_care-*` copies.
 */
export const videoTokens = css`
  :host {
    --_care-video-stage: var(--care-video-stage, #0b0f14);
    --_care-video-stage-raised: var(--care-video-stage-raised, #1c232d);
    --_care-video-on-stage: var(--care-video-on-stage, #f5f7fa);
    --_care-video-on-stage-muted: var(--care-video-on-stage-muted, #b6bfcc);
    --_care-video-control: var(--care-video-control, rgb(255 255 255 / 0.14));
    --_care-video-control-hover: var(--care-video-control-hover, rgb(255 255 255 / 0.24));
    --_care-video-control-active: var(--care-video-control-active, #f5f7fa);
    --_care-video-on-control-active: var(--care-video-on-control-active, #0b0f14);
    --_care-video-end: var(--care-video-end, #d92d20);
    --_care-video-on-end: var(--care-video-on-end, #ffffff);
    --_care-video-meter: var(--care-video-meter, #32d583);
  }
`;
