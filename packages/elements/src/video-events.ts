import type { CorrespondenceEntry, Patient } from '@carecomms/core';

/*
 * The video elements' events live with them rather than in `events.ts`: that
 * module is part of the CDN entry, and a class there ships in the first paint
 * even when only a lazily loaded element fires it.
 */

const init = { bubbles: true, composed: true } as const;

/** A video visit started from `<care-video-dialog>` (or the patient joined one in `<care-video-room>`). */
export class CareVideoStartedEvent extends Event {
  static readonly eventName = 'care-video-started';
  constructor(
    /** The visit's id. */
    readonly visitId: string,
    /** Its entry in the correspondence history (null on the patient's side, which does not see it). */
    readonly correspondenceId: string | null,
    /** The patient, when known (the practitioner's side). */
    readonly patient: Patient | null,
  ) {
    super(CareVideoStartedEvent.eventName, init);
  }
}

/**
 * A video visit ended for this side. `reason`: `left` (this side ended or left
 * it), `ended` (the other side or the server ended it), `replaced` (the seat was
 * taken from another device), `refused` or `failed`.
 */
export class CareVideoEndedEvent extends Event {
  static readonly eventName = 'care-video-ended';
  constructor(
    readonly visitId: string,
    readonly reason: 'left' | 'ended' | 'replaced' | 'refused' | 'failed',
    /** The completed video entry with its duration (the practitioner's side, once the server logged it). */
    readonly entry: CorrespondenceEntry | null,
    readonly patient: Patient | null,
  ) {
    super(CareVideoEndedEvent.eventName, init);
  }
}

declare global {
  interface HTMLElementEventMap {
    'care-video-started': CareVideoStartedEvent;
    'care-video-ended': CareVideoEndedEvent;
  }
}
