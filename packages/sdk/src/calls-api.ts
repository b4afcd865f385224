import type { CallView, CorrespondenceEntry, RecordingLink, StartedCall } from '@carecomms/core';
import type { CallsResource } from './calls.js';
import type { CallOptions, CareClient } from './client.js';
import type { Transport } from './transport.js';

/** `client.calls`, fetched on first use (see `createCareClient`): a page that never calls never loads it. */
export function callsApi(transport: Transport, client: CareClient, fetchImpl: typeof fetch | undefined): CallsResource {
  const path = (id: string, action = '') => `/api/v1/calls/${encodeURIComponent(id)}${action}`;
  const post = (action: string) => (id: string, call: CallOptions = {}) => transport.json<CallView>(path(id, action), { ...call, method: 'POST' });
  return {
    start: (patientId, call = {}) => transport.json<StartedCall>(`/api/v1/patients/${encodeURIComponent(patientId)}/calls`, { ...call, method: 'POST' }),
    // The session (and @twilio/voice-sdk behind it) loads only when a call is placed.
    connect: (started, options = {}) => import('./voice/session.js').then((m) => m.CallSession.connect(client, started, { fetch: fetchImpl, ...options })),
    get: (id, call = {}) => transport.json<CallView>(path(id), call),
    hold: post('/hold'),
    resume: post('/resume'),
    end: post('/end'),
    updateNotes: (id, notes, call = {}) => transport.json<CorrespondenceEntry>(path(id), { ...call, method: 'PATCH', body: { notes } }),
    recordingUrl: async (id, call = {}) => {
      const link = await transport.json<RecordingLink>(path(id, '/recording/link'), { ...call, method: 'POST' });
      return { ...link, url: transport.url(link.url) };
    },
  };
}
