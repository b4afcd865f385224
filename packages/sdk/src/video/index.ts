/**
 * Video visits in the browser: a session controller over Twilio Video or the
 * sandbox's WebRTC, and camera / microphone helpers. `twilio-video` itself is
 * loaded only when the first Twilio visit connects.
 */
export { VideoSession, VideoSessionEndedEvent, type VideoSessionMedia, type VideoSessionOptions } from './session.js';
export type { RemoteMediaState, VideoEndReason, VideoSessionState } from './transport.js';
export {
  deviceIdOf,
  getDeviceTrack,
  getLocalMedia,
  getLocalMediaOrVoice,
  listMediaDevices,
  MediaAccessError,
  stopStream,
  watchAudioLevel,
  type LocalMedia,
  type MediaAccessErrorCode,
  type MediaChoice,
  type MediaDeviceLists,
} from './devices.js';
export { cachedLoader, loadTwilioVideo, type TwilioVideo } from './twilio-loader.js';
