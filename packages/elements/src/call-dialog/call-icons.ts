import { svg, type SVGTemplateResult } from 'lit';

/** Stroke icons for call controls, on the same 24px grid as `icons.ts` (after Lucide, ISC). Decorative. */
const icon = (paths: SVGTemplateResult) =>
  svg`<svg class="icon" part="icon" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${paths}</svg>`;

export const micIcon = icon(svg`<rect x="9" y="2" width="6" height="12" rx="3"/><path d="M19 10v1a7 7 0 0 1-14 0v-1M12 18v4"/>`);
export const micOffIcon = icon(
  svg`<path d="m2 2 20 20M18.9 13.5A7 7 0 0 0 19 11v-1M5 10v1a7 7 0 0 0 11.7 5.2M15 9.3V5a3 3 0 0 0-5.7-1.3M9 9v2a3 3 0 0 0 5.1 2.1M12 18v4"/>`,
);
export const pauseIcon = icon(svg`<rect x="6" y="4" width="4" height="16" rx="1"/><rect x="14" y="4" width="4" height="16" rx="1"/>`);
export const playIcon = icon(svg`<path d="m7 4 13 8-13 8z"/>`);
export const hangUpIcon = icon(
  svg`<path d="M10.1 13.9a14 14 0 0 0 3.73 2.67 1 1 0 0 0 1.21-.3l.36-.47A2 2 0 0 1 17 15h3a2 2 0 0 1 2 2v3a2 2 0 0 1-2 2 18 18 0 0 1-12.73-5.27"/><path d="M22 2 2 22"/><path d="M4.76 13.58A18 18 0 0 1 2 4a2 2 0 0 1 2-2h3a2 2 0 0 1 2 2v3a2 2 0 0 1-.8 1.6l-.47.35a1 1 0 0 0-.29 1.23 14 14 0 0 0 .24.47"/>`,
);
