import { css } from 'lit';

export const videoRoomStyles = css`
  :host {
    display: block;
    color-scheme: inherit;
    background: var(--_care-color-surface-sunken);
    --_care-font-size: var(--care-font-size, 1rem);
  }
  .room {
    display: flex;
    flex-direction: column;
    gap: 1rem;
    max-width: 56rem;
    min-height: 100%;
    margin: 0 auto;
    padding: max(1rem, env(safe-area-inset-top)) 1rem max(1rem, env(safe-area-inset-bottom));
  }
  .header {
    display: flex;
    align-items: center;
    gap: 0.75rem;
  }
  .header h1 {
    margin: 0;
    font-size: 1.25rem;
    line-height: 1.2;
  }
  .header p {
    margin: 0.125rem 0 0;
    color: var(--_care-color-text-muted);
  }
  .header > div {
    min-width: 0;
    overflow-wrap: anywhere;
  }
  .mark {
    flex: none;
    display: inline-grid;
    place-items: center;
    width: 2.5rem;
    height: 2.5rem;
    border-radius: 50%;
    background: var(--_care-color-video-surface);
    color: var(--_care-color-video);
  }
  .content {
    display: grid;
  }
  .check,
  .live {
    display: grid;
    gap: 1rem;
  }
  .check h2 {
    margin: 0;
    font-size: 1.0625rem;
  }
  .preview-frame {
    position: relative;
    overflow: hidden;
    border-radius: var(--_care-radius-large);
    background: var(--_care-video-stage);
    aspect-ratio: 4 / 3;
    max-height: 60dvh;
    /* As wide as the column even when the height limit is reached first (the camera is cropped, not shrunk to one side). */
    width: 100%;
  }
  .preview {
    display: block;
    width: 100%;
    height: 100%;
    object-fit: cover;
    transform: scaleX(-1);
  }
  .preview-note {
    position: absolute;
    inset: 0;
    display: grid;
    place-items: center;
    margin: 0;
    color: var(--_care-video-on-stage);
  }
  .preview-note.voice-only {
    display: flex;
    flex-direction: column;
    align-items: center;
    justify-content: center;
    gap: 0.5rem;
    color: var(--_care-video-on-stage-muted);
    font-weight: 500;
  }
  .preview-note.voice-only .icon {
    width: 2.5rem;
    height: 2.5rem;
  }
  .message p {
    margin: 0 0 0.5rem;
  }
  .meter-row {
    display: grid;
    grid-template-columns: auto 1fr;
    align-items: center;
    gap: 0.75rem;
    font-weight: 600;
    font-size: 0.875rem;
  }
  .meter {
    height: 0.625rem;
    border-radius: 999px;
    background: var(--_care-color-border);
    overflow: hidden;
  }
  .meter span {
    display: block;
    height: 100%;
    background: var(--_care-video-meter);
    transition: inline-size 90ms linear;
  }
  .join {
    min-height: 3rem;
    font-size: 1.0625rem;
  }
  .note {
    margin: 0;
    color: var(--_care-color-text-muted);
    font-size: 0.875rem;
    text-align: center;
  }
  .call-status {
    margin: 0;
    font-weight: 600;
    text-align: center;
  }
  .settings summary {
    cursor: pointer;
    font-weight: 600;
    padding: 0.5rem 0;
  }
  .settings[open] summary {
    margin-bottom: 0.5rem;
  }
  .notice {
    display: grid;
    justify-items: center;
    gap: 0.75rem;
    padding: 2.5rem 1rem;
    text-align: center;
  }
  .notice > .icon {
    width: 3rem;
    height: 3rem;
    color: var(--_care-color-video);
  }
  .notice h2 {
    margin: 0;
    font-size: 1.25rem;
  }
  .notice p {
    margin: 0;
    max-width: 30rem;
    color: var(--_care-color-text-muted);
  }
  /* A phone held upright: a tall stage, big touch targets. */
  @media (max-width: 600px) and (orientation: portrait) {
    .remote-tile {
      aspect-ratio: 3 / 4;
      /*
       * Leaves on screen what goes with it on a 320 px phone: the header and the status line (two lines each
       * there) and the row of controls (labels on two lines), with the gaps: about 18.5rem.
       */
      max-height: min(68dvh, calc(100dvh - 18.5rem));
    }
    .local-tile {
      width: 32%;
      aspect-ratio: 3 / 4;
    }
    .preview-frame {
      aspect-ratio: 3 / 4;
      /* Leaves the microphone meter and Join in sight on a short phone. */
      max-height: 45dvh;
    }
    /*
     * One row, sized by their labels, then sharing the rest ("Turn camera off" needs more room than "Mute"); a
     * label too long for its share ("Desactivar cámara") goes onto two lines rather than the button onto a row of its own.
     */
    .controls {
      flex-wrap: nowrap;
    }
    .control {
      flex: 1 1 auto;
      min-width: 0;
      text-align: center;
    }
  }
  /* A phone held sideways: the whole of the stage and the controls on its short screen. */
  @media (max-height: 500px) and (orientation: landscape) {
    .room {
      gap: 0.5rem;
      padding-block: max(0.5rem, env(safe-area-inset-top)) max(0.5rem, env(safe-area-inset-bottom));
    }
    .live,
    .check {
      gap: 0.5rem;
    }
    .remote-tile {
      min-height: 8rem;
      max-height: calc(100dvh - 12.5rem);
    }
    .preview-frame {
      max-height: 50dvh;
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .meter span {
      transition: none;
    }
  }
`;
