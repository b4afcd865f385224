import type { AuditActor } from '../repositories/audit.js';

/** What the request has proved about its caller. */
export type Caller =
  | { kind: 'practitioner'; tenantId: string; practitionerId: string; expiresAt: Date }
  | { kind: 'apiKey'; tenantId: string };

export interface AppState {
  requestId: string;
  caller?: Caller;
}

export function auditActor(state: AppState, ip: string | null): AuditActor {
  const caller = state.caller;
  if (!caller) throw new Error('auditActor needs an authenticated caller');
  return caller.kind === 'practitioner'
    ? { tenantId: caller.tenantId, type: 'practitioner', id: caller.practitionerId, requestId: state.requestId, ip }
    : { tenantId: caller.tenantId, type: 'api_key', id: null, requestId: state.requestId, ip };
}
