import type { CorrespondenceEntry } from '@carecomms/core';
import type { Transport } from './transport.js';
import { VideoSession } from './video/session.js';
import type { VideoVisit, VideoVisitsResource } from './video-visits.js';

const visitPath = (id: string, action: string) => `/api/v1/video-visits/${encodeURIComponent(id)}/${action}`;

/** `client.videoVisits`, loaded when first used. */
export function videoVisitsApi(transport: Transport, fetch: typeof globalThis.fetch | undefined): VideoVisitsResource {
  return {
    start: (patientId, call = {}) =>
      transport.json<VideoVisit>(`/api/v1/patients/${encodeURIComponent(patientId)}/video-visits`, { ...call, method: 'POST' }),
    sendLink: (visitId, call = {}) => transport.json<CorrespondenceEntry>(visitPath(visitId, 'send-link'), { ...call, method: 'POST' }),
    end: (visitId, call = {}) => transport.json<CorrespondenceEntry>(visitPath(visitId, 'end'), { ...call, method: 'POST' }),
    session: async (visit, media) =>
      new VideoSession({
        ...media,
        provider: visit.provider,
        role: 'practitioner',
        baseUrl: transport.baseUrl,
        visitId: visit.id,
        token: visit.token,
        roomName: visit.roomName,
        fetch,
      }),
  };
}
