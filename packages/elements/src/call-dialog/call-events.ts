import type { Patient, StartedCall } from '@carecomms/core';
import type { CallSessionState } from '@carecomms/sdk';

/*
 * The call dialog's events live with it rather than in `events.ts`: that module
 * is part of the CDN entry, and a class there ships in the first paint even
 * when only a lazily loaded dialog fires it.
 */

const init = { bubbles: true, composed: true } as const;

/** A call from `<care-call-dialog>` was placed: the voice entry exists and the patient's phone is about to ring. */
export class CareCallStartedEvent extends Event {
  static readonly eventName = 'care-call-started';
  constructor(
    /** The call (its id, and its `entry` in the correspondence history). */
    readonly call: StartedCall,
    readonly patient: Patient,
  ) {
    super(CareCallStartedEvent.eventName, init);
  }
}

/**
 * A call from `<care-call-dialog>` is over. `state`: `completed`, `busy`,
 * `no-answer`, `failed` or `canceled` (hung up before the patient answered).
 */
export class CareCallEndedEvent extends Event {
  static readonly eventName = 'care-call-ended';
  constructor(
    readonly callId: string,
    readonly state: CallSessionState,
    /** From answer to hang-up, as the server logged it (null when the patient never answered). */
    readonly durationSeconds: number | null,
    readonly patient: Patient,
  ) {
    super(CareCallEndedEvent.eventName, init);
  }
}

declare global {
  interface HTMLElementEventMap {
    'care-call-started': CareCallStartedEvent;
    'care-call-ended': CareCallEndedEvent;
  }
}
