/** Why the camera or microphone could not be used. */
export type MediaAccessErrorCode = 'permission_denied' | 'no_device' | 'device_busy' | 'insecure_context' | 'unsupported' | 'unknown';

/** Getting the camera or microphone failed; `code` says why, for a message the user can act on. */
export class MediaAccessError extends Error {
  override readonly name = 'MediaAccessError';
  constructor(
    readonly code: MediaAccessErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static from(error: unknown): MediaAccessError {
    if (error instanceof MediaAccessError) return error;
    const name = (error as { name?: string } | null)?.name;
    switch (name) {
      case 'NotAllowedError':
      case 'SecurityError':
        return new MediaAccessError('permission_denied', 'Camera or microphone access was refused', { cause: error });
      case 'NotFoundError':
      case 'OverconstrainedError':
        return new MediaAccessError('no_device', 'No camera or microphone was found', { cause: error });
      case 'NotReadableError':
      case 'AbortError':
        return new MediaAccessError('device_busy', 'The camera or microphone is in use by another application', { cause: error });
      default:
        return new MediaAccessError('unknown', (error as Error | null)?.message ?? 'Camera or microphone unavailable', { cause: error });
    }
  }
}

export interface MediaChoice {
  /** `deviceId` of the camera; the browser's default when absent. */
  cameraId?: string | null | undefined;
  microphoneId?: string | null | undefined;
}

function mediaDevices(): MediaDevices {
  if (!globalThis.isSecureContext) throw new MediaAccessError('insecure_context', 'Camera and microphone need a secure (https) page');
  if (!navigator.mediaDevices?.getUserMedia) throw new MediaAccessError('unsupported', 'This browser cannot use a camera or microphone');
  return navigator.mediaDevices;
}

const videoConstraints = (cameraId?: string | null): MediaTrackConstraints => ({
  ...(cameraId ? { deviceId: { exact: cameraId } } : {}),
  width: { ideal: 1280 },
  height: { ideal: 720 },
  frameRate: { ideal: 24, max: 30 },
});

const audioConstraints = (microphoneId?: string | null): MediaTrackConstraints => ({
  ...(microphoneId ? { deviceId: { exact: microphoneId } } : {}),
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
});

/** Camera and microphone together. Throws {@link MediaAccessError}. */
export async function getLocalMedia(choice: MediaChoice = {}): Promise<MediaStream> {
  try {
    return await mediaDevices().getUserMedia({ video: videoConstraints(choice.cameraId), audio: audioConstraints(choice.microphoneId) });
  } catch (error) {
    throw MediaAccessError.from(error);
  }
}

/** What {@link getLocalMediaOrVoice} could get. */
export interface LocalMedia {
  stream: MediaStream;
  /** Why the camera is not in `stream` (the visit is then by voice only); null when it is. */
  cameraError: MediaAccessError | null;
}

/**
 * Camera and microphone, or the microphone alone when the camera cannot be had
 * (none, busy, refused) but the microphone can: seen and heard is best, but
 * heard is better than not at all. Throws {@link MediaAccessError} (the
 * microphone's) when neither can be had.
 */
export async function getLocalMediaOrVoice(choice: MediaChoice = {}): Promise<LocalMedia> {
  let cameraError: MediaAccessError;
  try {
    return { stream: await getLocalMedia(choice), cameraError: null };
  } catch (error) {
    cameraError = MediaAccessError.from(error);
    // No page or browser for media at all: a microphone alone would fail the same way.
    if (cameraError.code === 'insecure_context' || cameraError.code === 'unsupported') throw cameraError;
  }
  try {
    return { stream: await mediaDevices().getUserMedia({ audio: audioConstraints(choice.microphoneId) }), cameraError };
  } catch (error) {
    throw MediaAccessError.from(error);
  }
}

/** One new track from a given camera or microphone (to switch devices mid-visit). */
export async function getDeviceTrack(kind: 'video' | 'audio', deviceId: string | null): Promise<MediaStreamTrack> {
  try {
    const stream = await mediaDevices().getUserMedia(kind === 'video' ? { video: videoConstraints(deviceId) } : { audio: audioConstraints(deviceId) });
    return kind === 'video' ? stream.getVideoTracks()[0]! : stream.getAudioTracks()[0]!;
  } catch (error) {
    throw MediaAccessError.from(error);
  }
}

export interface MediaDeviceLists {
  cameras: MediaDeviceInfo[];
  microphones: MediaDeviceInfo[];
}

/** Cameras and microphones; labels are empty until the page has been granted access once. */
export async function listMediaDevices(): Promise<MediaDeviceLists> {
  if (!navigator.mediaDevices?.enumerateDevices) return { cameras: [], microphones: [] };
  const devices = await navigator.mediaDevices.enumerateDevices();
  return {
    cameras: devices.filter((d) => d.kind === 'videoinput' && d.deviceId),
    microphones: devices.filter((d) => d.kind === 'audioinput' && d.deviceId),
  };
}

/** The `deviceId` a stream's track of that kind comes from, when the browser says. */
export function deviceIdOf(stream: MediaStream | null, kind: 'video' | 'audio'): string | null {
  const track = kind === 'video' ? stream?.getVideoTracks()[0] : stream?.getAudioTracks()[0];
  return track?.getSettings().deviceId ?? null;
}

/**
 * Reports the microphone's loudness (0–1, about 10 times a second) for a level
 * meter. Returns a function that stops it.
 */
export function watchAudioLevel(stream: MediaStream, onLevel: (level: number) => void): () => void {
  const track = stream.getAudioTracks()[0];
  const AudioContextClass = globalThis.AudioContext;
  if (!track || !AudioContextClass) return () => undefined;
  const context = new AudioContextClass();
  const source = context.createMediaStreamSource(new MediaStream([track]));
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    if (context.state === 'suspended') void context.resume().catch(() => undefined);
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const sample of samples) sum += sample * sample;
    // RMS on a rough perceptual scale: normal speech lands around the middle.
    onLevel(Math.min(1, Math.sqrt(sum / samples.length) * 4));
  }, 100);
  return () => {
    clearInterval(timer);
    source.disconnect();
    void context.close().catch(() => undefined);
  };
}

/** Stops every track of a stream (releases the camera light). */
export function stopStream(stream: MediaStream | null | undefined): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}
