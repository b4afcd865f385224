/** The media side of a call, as the session sees it. */
export type MediaState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface VoiceTransportHandlers {
  /** The media connection changed; `error` says why it failed, when it did. */
  media(state: MediaState, error?: unknown): void;
  /** The microphone's input level, 0–1, several times a second. */
  level(level: number): void;
}

/** One provider's way of carrying a call's audio: Twilio Voice, or the sandbox's WebRTC. */
export interface VoiceTransport {
  /** Takes the microphone and connects. Throws `MicrophoneError` or the provider's error. */
  start(): Promise<void>;
  setMuted(muted: boolean): void;
  /** The patient is on hold: stop sending and playing audio (Twilio holds the phone leg itself). */
  setHeld(held: boolean): void;
  /** Switches microphones mid-call. */
  setMicrophone(deviceId: string): Promise<void>;
  /** The microphone in use, when the browser says. */
  readonly microphoneId: string | null;
  close(): void;
}
