/**
 * Registers every CareComms element. Import once (`@carecomms/elements/define`,
 * or the CDN bundle, which is this module).
 *
 * The bar and the list are defined at once; the dialogs and what they use are
 * fetched on first use or when the browser is next idle, whichever comes
 * first, so a page pays only for what it shows first.
 */
import { CareActionBar } from './action-bar/action-bar.js';
import { CareComms } from './comms/comms.js';
import { CareCorrespondenceList } from './correspondence-list/correspondence-list.js';
import { define, ensureDefined, preloadLazyElements, registerLazyElement } from './lazy.js';

define('care-comms', CareComms);
define('care-action-bar', CareActionBar);
define('care-correspondence-list', CareCorrespondenceList);

const loadDialog = () => import('./dialog/dialog.js').then((m) => define('care-dialog', m.CareDialog));
const loadPicker = () =>
  import('./patient-picker/patient-picker.js').then((m) => define('care-patient-picker', m.CarePatientPicker));

registerLazyElement('care-dialog', loadDialog);
registerLazyElement('care-patient-picker', loadPicker);
registerLazyElement('care-sms-dialog', async () => {
  const [m] = await Promise.all([import('./sms-dialog/sms-dialog.js'), loadDialog(), loadPicker()]);
  define('care-sms-dialog', m.CareSmsDialog);
});
registerLazyElement('care-call-dialog', async () => {
  const [m] = await Promise.all([import('./call-dialog/call-dialog.js'), loadDialog(), loadPicker()]);
  define('care-call-dialog', m.CareCallDialog);
});
registerLazyElement('care-video-dialog', async () => {
  const [m] = await Promise.all([import('./video-dialog/video-dialog.js'), loadDialog(), loadPicker()]);
  define('care-video-dialog', m.CareVideoDialog);
});
registerLazyElement('care-video-room', async () => {
  const m = await import('./video-room/video-room.js');
  define('care-video-room', m.CareVideoRoom);
});
// A page that is a video room (the patient's join page) needs it now, not when idle.
if (document.querySelector('care-video-room')) {
  ensureDefined('care-video-room').catch((error: unknown) => console.warn('CareComms: the video room could not be loaded', error));
}

const whenIdle: (callback: () => void) => void =
  typeof requestIdleCallback === 'function' ? (cb) => requestIdleCallback(cb, { timeout: 4000 }) : (cb) => setTimeout(cb, 1500);
whenIdle(() => {
  // The dialogs a practitioner opens; the video room is the patient's page and is loaded only where it is used.
  preloadLazyElements(['care-sms-dialog', 'care-call-dialog', 'care-video-dialog']).catch((error: unknown) => console.warn('CareComms: preloading dialogs failed', error));
});

declare global {
  interface HTMLElementTagNameMap {
    'care-comms': CareComms;
    'care-action-bar': CareActionBar;
    'care-correspondence-list': CareCorrespondenceList;
    'care-dialog': import('./dialog/dialog.js').CareDialog;
    'care-patient-picker': import('./patient-picker/patient-picker.js').CarePatientPicker;
    'care-sms-dialog': import('./sms-dialog/sms-dialog.js').CareSmsDialog;
    'care-call-dialog': import('./call-dialog/call-dialog.js').CareCallDialog;
    'care-video-dialog': import('./video-dialog/video-dialog.js').CareVideoDialog;
    'care-video-room': import('./video-room/video-room.js').CareVideoRoom;
  }
}
