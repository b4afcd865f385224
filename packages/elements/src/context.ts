import { createContext } from '@lit/context';
import type { SessionInfo } from '@carecomms/core';
import type { CareClient } from '@carecomms/sdk';

/** The SDK client `<care-comms>` provides to every element inside it. */
export const careClientContext = createContext<CareClient | undefined>(Symbol.for('carecomms.client'));

/** The practitioner's session (features, provider), fetched once by `<care-comms>`. */
export const careSessionContext = createContext<SessionInfo | undefined>(Symbol.for('carecomms.session'));
