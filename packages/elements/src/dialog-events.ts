import type { CorrespondenceEntry, Patient } from '@carecomms/core';

/*
 * The events of the dialogs and the patient picker live apart from `events.ts`
 * (part of the CDN entry), so they load with the lazily loaded elements that
 * fire them.
 */

/** What closed, or tried to close, a dialog. */
export type CloseSource = 'escape' | 'backdrop' | 'close-button' | 'api';

const init = { bubbles: true, composed: true } as const;

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

declare global {
  interface HTMLElementEventMap {
    'care-request-close': CareRequestCloseEvent;
    'care-close': CareCloseEvent;
    'care-patient-change': CarePatientChangeEvent;
    'care-sms-sent': CareSmsSentEvent;
  }
}
