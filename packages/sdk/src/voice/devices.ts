/** Why the microphone could not be used. */
export type MicrophoneErrorCode = 'permission_denied' | 'no_device' | 'device_busy' | 'insecure_context' | 'unsupported' | 'unknown';

/** Getting the microphone failed; `code` says why, for a message the practitioner can act on. */
export class MicrophoneError extends Error {
  override readonly name = 'MicrophoneError';
  constructor(
    readonly code: MicrophoneErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static from(error: unknown): MicrophoneError {
    if (error instanceof MicrophoneError) return error;
    switch ((error as { name?: string } | null)?.name) {
      case 'NotAllowedError':
      case 'SecurityError':
        return new MicrophoneError('permission_denied', 'Microphone access was refused', { cause: error });
      case 'NotFoundError':
      case 'OverconstrainedError':
        return new MicrophoneError('no_device', 'No microphone was found', { cause: error });
      case 'NotReadableError':
      case 'AbortError':
        return new MicrophoneError('device_busy', 'The microphone is in use by another application', { cause: error });
      default:
        return new MicrophoneError('unknown', (error as Error | null)?.message ?? 'The microphone is unavailable', { cause: error });
    }
  }
}

/** A microphone stream (echo cancellation and noise suppression on). Throws {@link MicrophoneError}. */
export async function getMicrophone(deviceId?: string | null): Promise<MediaStream> {
  if (!globalThis.isSecureContext) throw new MicrophoneError('insecure_context', 'The microphone needs a secure (https) page');
  if (!navigator.mediaDevices?.getUserMedia) throw new MicrophoneError('unsupported', 'This browser cannot use a microphone');
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: { ...(deviceId ? { deviceId: { exact: deviceId } } : {}), echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
  } catch (error) {
    throw MicrophoneError.from(error);
  }
}

/** Microphones; labels are empty until the page has been granted access once. */
export async function listMicrophones(): Promise<MediaDeviceInfo[]> {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  return (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audioinput' && d.deviceId);
}

/**
 * Calls `onLevel` about 15 times a second with the stream's loudness (0–1,
 * RMS scaled so speech fills most of the range). Returns a function that stops.
 */
export function watchLevel(stream: MediaStream, onLevel: (level: number) => void): () => void {
  const AudioContextClass = globalThis.AudioContext ?? (globalThis as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
  if (!AudioContextClass || stream.getAudioTracks().length === 0) return () => undefined;
  const context = new AudioContextClass();
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  const source = context.createMediaStreamSource(stream);
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const sample of samples) sum += sample * sample;
    onLevel(Math.min(1, Math.sqrt(sum / samples.length) * 4));
  }, 66);
  return () => {
    clearInterval(timer);
    source.disconnect();
    void context.close().catch(() => undefined);
  };
}
