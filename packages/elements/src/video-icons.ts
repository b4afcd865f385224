import { svg } from 'lit';
import { icon } from './icons.js';

/*
 * Icons only the video elements use, apart from icons.ts so they land in the
 * video chunks rather than the initial bundle.
 */
export const micIcon = icon(svg`<rect x="9" y="2" width="6" height="12" rx="3"/><path d="M19 10v1a7 7 0 0 1-14 0v-1M12 18v4M8 22h8"/>`);
export const micOffIcon = icon(
  svg`<path d="m2 2 20 20M9 9v2a3 3 0 0 0 5.1 2.1M15 9.3V5a3 3 0 0 0-5.9-.7M19 10v1a7 7 0 0 1-1.1 3.8M5 10v1a7 7 0 0 0 11.5 5.4M12 18v4M8 22h8"/>`,
);
export const videoOffIcon = icon(
  svg`<path d="m2 2 20 20M10.7 6H14a2 2 0 0 1 2 2v3.3l1 1L22 8v8M16 16a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h2"/>`,
);
export const screenShareIcon = icon(svg`<rect x="2" y="3" width="20" height="14" rx="2"/><path d="M8 21h8M12 17v4M9 10l3-3 3 3M12 7v6"/>`);
export const hangUpIcon = icon(
  svg`<path d="M10.7 13.3a16 16 0 0 0 3.4 2.6l1.3-1.3a2 2 0 0 1 2.1-.4c.9.3 1.9.6 2.8.7a2 2 0 0 1 1.7 2v3a2 2 0 0 1-2.2 2 19.8 19.8 0 0 1-8.6-3.1 19.3 19.3 0 0 1-3.3-2.6M5.2 13.8A19.8 19.8 0 0 1 2.1 5.2 2 2 0 0 1 4.1 3h3a2 2 0 0 1 2 1.7c.1.9.4 1.9.7 2.8a2 2 0 0 1-.4 2.1L8.1 10.9M22 2 2 22"/>`,
);
export const copyIcon = icon(svg`<rect x="9" y="9" width="13" height="13" rx="2"/><path d="M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1"/>`);
