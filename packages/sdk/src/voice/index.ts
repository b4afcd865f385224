/**
 * Calls placed from the browser: the session controller over Twilio Voice or
 * the sandbox's WebRTC, and microphone helpers. `@twilio/voice-sdk` itself is
 * loaded only when the first Twilio call is placed.
 */
export { CallSession, CallSessionEndedEvent, type CallSessionOptions, type CallSessionState } from './session.js';
export { getMicrophone, listMicrophones, MicrophoneError, watchLevel, type MicrophoneErrorCode } from './devices.js';
export { loadTwilioVoice, type TwilioVoice } from './twilio-loader.js';
