import { svg, type SVGTemplateResult } from 'lit';

/** Stroke icons on a 24px grid (after Lucide, ISC). Decorative: the text next to them carries the meaning. */
export const icon = (paths: SVGTemplateResult) =>
  svg`<svg class="icon" part="icon" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${paths}</svg>`;

export const smsIcon = icon(svg`<path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/>`);
export const emailIcon = icon(svg`<rect x="2" y="4" width="20" height="16" rx="2"/><path d="m22 7-10 6L2 7"/>`);
export const voiceIcon = icon(
  svg`<path d="M22 16.92v3a2 2 0 0 1-2.18 2 19.8 19.8 0 0 1-8.63-3.07 19.5 19.5 0 0 1-6-6A19.8 19.8 0 0 1 2.12 4.18 2 2 0 0 1 4.11 2h3a2 2 0 0 1 2 1.72c.13.96.36 1.9.7 2.81a2 2 0 0 1-.45 2.11L8.09 9.91a16 16 0 0 0 6 6l1.27-1.27a2 2 0 0 1 2.11-.45c.9.34 1.85.57 2.81.7A2 2 0 0 1 22 16.92z"/>`,
);
export const videoIcon = icon(svg`<path d="m22 8-6 4 6 4V8z"/><rect x="2" y="6" width="14" height="12" rx="2"/>`);
export const outboundIcon = icon(svg`<path d="M7 17 17 7M7 7h10v10"/>`);
export const inboundIcon = icon(svg`<path d="M17 7 7 17M17 17H7V7"/>`);
export const recordingIcon = icon(svg`<circle cx="12" cy="12" r="9"/><circle cx="12" cy="12" r="3" fill="currentColor"/>`);
export const alertIcon = icon(svg`<circle cx="12" cy="12" r="10"/><path d="M12 8v4M12 16h.01"/>`);
