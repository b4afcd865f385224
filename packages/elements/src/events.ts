import type { CorrespondenceEntry, Feature, Patient } from '@carecomms/core';

/** What closed, or tried to close, a dialog. */
export type CloseSource = 'escape' | 'backdrop' | 'close-button' | 'api';

const init = { bubbles: true, composed: true } as const;

/** A practitioner chose an action in `<care-action-bar>`. */
export class CareActionEvent extends Event {
  static readonly eventName = 'care-action';
  constructor(readonly action: Feature) {
    super(CareActionEvent.eventName, init);
  }
}

/**
 * A dialog is about to close. Cancel it (`preventDefault()`) to keep the dialog
 * open, e.g. to ask "end the call?" first.
 */
export class CareRequestCloseEvent extends Event {
  static readonly eventName = 'care-request-close';
  constructor(readonly source: CloseSource) {
    super(CareRequestCloseEvent.eventName, { ...init, cancelable: true });
  }
}

/** A dialog has closed. */
export class CareCloseEvent extends Event {
  static readonly eventName = 'care-close';
  constructor() {
    super(CareCloseEvent.eventName, init);
  }
}

/** The selected patient changed in `<care-patient-picker>`. */
export class CarePatientChangeEvent extends Event {
  static readonly eventName = 'care-patient-change';
  constructor(readonly patient: Patient | null) {
    super(CarePatientChangeEvent.eventName, init);
  }
}

/** The channel filter of `<care-correspondence-list>` changed (`null` = all channels). */
export class CareFilterChangeEvent extends Event {
  static readonly eventName = 'care-filter-change';
  constructor(readonly channel: CorrespondenceEntry['channel'] | null) {
    super(CareFilterChangeEvent.eventName, init);
  }
}

/** The server accepted an SMS from `<care-sms-dialog>`. */
export class CareSmsSentEvent extends Event {
  static readonly eventName = 'care-sms-sent';
  constructor(
    readonly entry: CorrespondenceEntry,
    readonly patient: Patient,
  ) {
    super(CareSmsSentEvent.eventName, init);
  }
}

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
    'care-action': CareActionEvent;
    'care-request-close': CareRequestCloseEvent;
    'care-close': CareCloseEvent;
    'care-patient-change': CarePatientChangeEvent;
    'care-filter-change': CareFilterChangeEvent;
    'care-sms-sent': CareSmsSentEvent;
    'care-video-started': CareVideoStartedEvent;
    'care-video-ended': CareVideoEndedEvent;
  }
}
