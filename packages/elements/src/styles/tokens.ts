import { css } from 'lit';

/**
 * Design tokens. Every colour the elements use is defined here, once, or,
 * for the few only the dialogs and the patient's video page use, in
 * `laterTokens` (styles/later.ts), out of the CDN entry.
 *
 * Public tokens are `--care-*`; each element reads them through a private
 * `--_care-*` copy with the default as fallback, so a host that sets
 * `--care-color-primary` on any ancestor themes every nested element, while an
 * element used alone still has its defaults. Light and dark values come from
 * `light-dark()`, which follows the inherited `color-scheme`: the widget matches
 * a host page that declares `color-scheme: dark`, and `<care-comms theme>`
 * can force either.
 */
export const tokens = css`
  :host {
    --_care-font-family: var(
      --care-font-family,
      system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif
    );
    --_care-font-size: var(--care-font-size, 0.875rem);
    --_care-radius: var(--care-radius, 8px);
    --_care-radius-large: var(--care-radius-large, 14px);

    --_care-color-text: var(--care-color-text, light-dark(#1b2431, #e6e9ef));
    --_care-color-text-muted: var(--care-color-text-muted, light-dark(#5a6576, #a3acba));
    --_care-color-surface: var(--care-color-surface, light-dark(#ffffff, #161b22));
    --_care-color-surface-raised: var(--care-color-surface-raised, light-dark(#ffffff, #1f2630));
    --_care-color-surface-sunken: var(--care-color-surface-sunken, light-dark(#f4f6f9, #11151b));
    --_care-color-border: var(--care-color-border, light-dark(#d9dee6, #333c48));
    --_care-color-primary: var(--care-color-primary, light-dark(#4338ca, #a5b4fc));
    --_care-color-on-primary: var(--care-color-on-primary, light-dark(#ffffff, #11151b));
    --_care-color-focus: var(--care-color-focus, light-dark(#2563eb, #93c5fd));
    --_care-color-danger: var(--care-color-danger, light-dark(#b42318, #fda29b));
    --_care-color-danger-surface: var(--care-color-danger-surface, light-dark(#fef3f2, #3a1512));
    --_care-color-success: var(--care-color-success, light-dark(#067647, #75e0a7));
    --_care-color-success-surface: var(--care-color-success-surface, light-dark(#ecfdf3, #0f2e1e));
    --_care-color-warning: var(--care-color-warning, light-dark(#93370d, #fec84b));

    --_care-color-sms: var(--care-color-sms, light-dark(#166534, #86efac));
    --_care-color-sms-surface: var(--care-color-sms-surface, light-dark(#dcfce7, #0f2e1a));
    --_care-color-email: var(--care-color-email, light-dark(#1e40af, #93c5fd));
    --_care-color-email-surface: var(--care-color-email-surface, light-dark(#dbeafe, #132544));
    --_care-color-voice: var(--care-color-voice, light-dark(#6b21a8, #d8b4fe));
    --_care-color-voice-surface: var(--care-color-voice-surface, light-dark(#f3e8ff, #2b1640));
    --_care-color-video: var(--care-color-video, light-dark(#9d174d, #f9a8d4));
    --_care-color-video-surface: var(--care-color-video-surface, light-dark(#fce7f3, #3a1328));

    --_care-action-bar-background: var(
      --care-action-bar-background,
      linear-gradient(120deg, light-dark(#3730a3, #312e81) 0%, light-dark(#6d28d9, #4c1d95) 55%, light-dark(#9d174d, #701a45) 100%)
    );
    --_care-action-bar-color: var(--care-action-bar-color, #ffffff);
    --_care-action-button-background: var(--care-action-button-background, rgb(255 255 255 / 0.14));
    --_care-action-button-background-hover: var(--care-action-button-background-hover, rgb(255 255 255 / 0.26));
    --_care-skeleton: var(--care-skeleton, light-dark(#e8ebf0, #262e39));
  }
`;
