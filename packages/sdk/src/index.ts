export { createCareClient } from './client.js';
export type {
  CallOptions,
  CareClient,
  CareClientOptions,
  ListCorrespondenceParams,
  ListPatientsParams,
  SendMessageOptions,
  SendMessageParams,
} from './client.js';
export { CareApiError, type ClientErrorCode } from './errors.js';
export type { CareEventHandler, EventStreamState, EventStreamTiming, SubscribeOptions } from './events.js';
export type { TokenSource } from './transport.js';
export { joinVisit, type JoinVisitOptions, type PatientSeat, type VideoVisit, type VideoVisitsResource, type VideoVisitUpdate } from './video-visits.js';
export type { CallsResource } from './calls.js';
export type { CallSession, CallSessionEndedEvent, CallSessionOptions, CallSessionState } from './voice/session.js';
export type { MicrophoneError, MicrophoneErrorCode } from './voice/devices.js';
