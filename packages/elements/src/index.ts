export { CareActionBar } from './action-bar/action-bar.js';
export { CareCallDialog } from './call-dialog/call-dialog.js';
export { CareCallEndedEvent, CareCallStartedEvent } from './call-dialog/call-events.js';
export { CareComms } from './comms/comms.js';
export { careClientContext, careSessionContext } from './context.js';
export { CareCorrespondenceList } from './correspondence-list/correspondence-list.js';
export { CareDialog } from './dialog/dialog.js';
export {
  CareActionEvent,
  CareCloseEvent,
  CareFilterChangeEvent,
  CarePatientChangeEvent,
  CareRequestCloseEvent,
  CareSmsSentEvent,
  type CloseSource,
} from './events.js';
export { careLocale, setCareLocale, supportedLocales } from './localization.js';
export { CarePatientPicker } from './patient-picker/patient-picker.js';
export { CareSmsDialog } from './sms-dialog/sms-dialog.js';
export { tokens } from './styles/tokens.js';
export { CareVideoDialog } from './video-dialog/video-dialog.js';
export { CareVideoRoom } from './video-room/video-room.js';
export { CareVideoEndedEvent, CareVideoStartedEvent } from './video-events.js';
