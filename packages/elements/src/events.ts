import type { CorrespondenceEntry, Feature } from '@carecomms/core';

/*
 * The events of the elements in the CDN entry (the bar and the list). The
 * dialogs' events are in dialog-events.ts, so they load with the dialogs.
 */

const init = { bubbles: true, composed: true } as const;

/** A practitioner chose an action in `<care-action-bar>`. */
export class CareActionEvent extends Event {
  static readonly eventName = 'care-action';
  constructor(readonly action: Feature) {
    super(CareActionEvent.eventName, init);
  }
}

/** The channel filter of `<care-correspondence-list>` changed (`null` = all channels). */
export class CareFilterChangeEvent extends Event {
  static readonly eventName = 'care-filter-change';
  constructor(readonly channel: CorrespondenceEntry['channel'] | null) {
    super(CareFilterChangeEvent.eventName, init);
  }
}

declare global {
  interface HTMLElementEventMap {
    'care-action': CareActionEvent;
    'care-filter-change': CareFilterChangeEvent;
  }
}
