import { svg } from 'lit';
import { icon } from './icons.js';

/*
 * Icons only the dialogs, the patient picker and the video room use, apart
 * from icons.ts (part of the CDN entry) so they land in those lazy chunks.
 */
export const closeIcon = icon(svg`<path d="M18 6 6 18M6 6l12 12"/>`);
export const searchIcon = icon(svg`<circle cx="11" cy="11" r="7"/><path d="m21 21-4.3-4.3"/>`);
export const checkIcon = icon(svg`<circle cx="12" cy="12" r="10"/><path d="m8 12 3 3 5-6"/>`);
export const blockedIcon = icon(svg`<circle cx="12" cy="12" r="10"/><path d="m4.9 4.9 14.2 14.2"/>`);
