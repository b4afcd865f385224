import type { StartedCall } from '@carecomms/core';
import type { Call, Device } from '@twilio/voice-sdk';
import { MicrophoneError } from './devices.js';
import { loadTwilioVoice, type TwilioVoice } from './twilio-loader.js';
import type { VoiceTransport, VoiceTransportHandlers } from './transport.js';

/** Twilio's "user denied access to the microphone" (and "acquisition failed") errors. */
const MICROPHONE_ERRORS = new Set([31208, 31401, 31402]);

/**
 * Twilio Voice: `@twilio/voice-sdk` places the browser's leg with the call's
 * access token; the voice webhook puts it in the call's conference. Hold is
 * the server's job (the patient's phone leg), so `setHeld` changes nothing here.
 */
export class TwilioVoiceTransport implements VoiceTransport {
  private device: Device | null = null;
  private twilioCall: Call | null = null;
  private closed = false;

  constructor(
    private readonly call: StartedCall,
    private readonly handlers: VoiceTransportHandlers,
    private readonly options: { microphoneId?: string | null | undefined },
    /** Where `@twilio/voice-sdk` comes from (tests give a stand-in). */
    private readonly load: () => Promise<TwilioVoice> = loadTwilioVoice,
  ) {}

  get microphoneId(): string | null {
    return this.device?.audio?.inputDevice?.deviceId ?? null;
  }

  async start(): Promise<void> {
    const { Device, Call } = await this.load();
    if (this.closed) return;
    const device = (this.device = new Device(this.call.token, {
      codecPreferences: [Call.Codec.Opus, Call.Codec.PCMU],
      closeProtection: false,
      logLevel: 'error',
    }));
    if (this.options.microphoneId) await device.audio?.setInputDevice(this.options.microphoneId);
    this.handlers.media('connecting');
    let twilioCall: Call;
    try {
      // The token's grant already carries the call id; the webhook checks it belongs to this identity.
      twilioCall = this.twilioCall = await device.connect({ params: { callId: this.call.id } });
    } catch (error) {
      throw microphoneOr(error);
    }
    twilioCall.on('accept', () => this.handlers.media('connected'));
    twilioCall.on('reconnecting', () => this.handlers.media('reconnecting'));
    twilioCall.on('reconnected', () => this.handlers.media('connected'));
    twilioCall.on('volume', (input: number) => this.handlers.level(Math.min(1, input * 1.5)));
    for (const name of ['disconnect', 'cancel', 'reject'] as const) twilioCall.on(name, () => this.handlers.media('disconnected'));
    twilioCall.on('error', (error: unknown) => this.handlers.media('disconnected', microphoneOr(error)));
  }

  setMuted(muted: boolean): void {
    this.twilioCall?.mute(muted);
  }

  setHeld(): void {}

  async setMicrophone(deviceId: string): Promise<void> {
    await this.device?.audio?.setInputDevice(deviceId);
  }

  close(): void {
    this.closed = true;
    this.twilioCall?.disconnect();
    this.device?.destroy();
    this.twilioCall = null;
    this.device = null;
  }
}

function microphoneOr(error: unknown): unknown {
  const code = (error as { code?: number } | null)?.code;
  return code !== undefined && MICROPHONE_ERRORS.has(code) ? new MicrophoneError('permission_denied', 'Microphone access was refused', { cause: error }) : error;
}
