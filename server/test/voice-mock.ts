import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MockRequest } from './helpers.js';

const ACCOUNT = '(AC[0-9a-f]{32})';

/** A local stand-in for the voice parts of Twilio's REST API (Conferences, Participants, Calls, Recordings media). */
export async function startVoiceMock() {
  const requests: MockRequest[] = [];
  const failures: Array<{ status: number; code: number }> = [];
  /** Recording media the mock serves, by recording SID. */
  const recordings = new Map<string, Buffer>();
  let counter = 0;
  const next = (prefix: string) => `${prefix}${(++counter).toString(16).padStart(32, '0')}`;
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const participant = (accountSid: string, conferenceSid: string, callSid: string, extra: Record<string, unknown> = {}) => ({
    account_sid: accountSid,
    call_sid: callSid,
    conference_sid: conferenceSid,
    label: 'patient',
    status: 'queued',
    hold: false,
    muted: false,
    coaching: false,
    call_sid_to_coach: null,
    end_conference_on_exit: true,
    start_conference_on_enter: true,
    date_created: new Date().toUTCString(),
    date_updated: new Date().toUTCString(),
    uri: `/2010-04-01/Accounts/${accountSid}/Conferences/${conferenceSid}/Participants/${callSid}.json`,
    ...extra,
  });
  /** Conference SIDs by friendly name, as Twilio keeps one conference per name while it runs. */
  const conferences = new Map<string, string>();

  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://mock');
      const form = new URLSearchParams(raw);
      requests.push({ method: req.method!, path: url.pathname, query: url.searchParams, form, headers: req.headers });
      const path = url.pathname;
      let m: RegExpExecArray | null;
      if (req.method === 'POST' && (m = new RegExp(`^/2010-04-01/Accounts/${ACCOUNT}/Conferences/([^/]+)/Participants\\.json$`).exec(path))) {
        const failure = failures.shift();
        if (failure) return json(res, failure.status, { code: failure.code, message: 'mock error', status: failure.status });
        const name = decodeURIComponent(m[2]!);
        let conferenceSid = /^CF[0-9a-f]{32}$/.test(name) ? name : conferences.get(name);
        if (!conferenceSid) conferences.set(name, (conferenceSid = next('CF')));
        return json(res, 201, participant(m[1]!, conferenceSid, next('CA')));
      }
      if (req.method === 'POST' && (m = new RegExp(`^/2010-04-01/Accounts/${ACCOUNT}/Conferences/(CF[0-9a-f]{32})/Participants/([^/]+)\\.json$`).exec(path))) {
        return json(res, 200, participant(m[1]!, m[2]!, decodeURIComponent(m[3]!), { hold: form.get('Hold') === 'true', status: 'connected' }));
      }
      if (req.method === 'POST' && (m = new RegExp(`^/2010-04-01/Accounts/${ACCOUNT}/Conferences/(CF[0-9a-f]{32})\\.json$`).exec(path))) {
        return json(res, 200, {
          account_sid: m[1],
          sid: m[2],
          friendly_name: [...conferences].find(([, sid]) => sid === m![2])?.[0] ?? 'unknown',
          status: form.get('Status') ?? 'in-progress',
          api_version: '2010-04-01',
          region: 'us1',
          date_created: new Date().toUTCString(),
          date_updated: new Date().toUTCString(),
          uri: path,
          subresource_uris: {},
          reason_conference_ended: null,
          call_sid_ending_conference: null,
        });
      }
      if (req.method === 'POST' && (m = new RegExp(`^/2010-04-01/Accounts/${ACCOUNT}/Calls/(CA[0-9a-f]{32})\\.json$`).exec(path))) {
        return json(res, 200, { sid: m[2], account_sid: m[1], status: form.get('Status') ?? 'in-progress', uri: path });
      }
      if (req.method === 'GET' && (m = new RegExp(`^/2010-04-01/Accounts/${ACCOUNT}/Recordings/(RE[0-9a-f]{32})\\.mp3$`).exec(path))) {
        const media = recordings.get(m[2]!);
        if (!media) return json(res, 404, { code: 20404, message: 'not found', status: 404 });
        const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
        if (range) {
          const start = Number(range[1]);
          const end = range[2] ? Math.min(Number(range[2]), media.length - 1) : media.length - 1;
          res.writeHead(206, { 'content-type': 'audio/mpeg', 'content-length': String(end - start + 1), 'content-range': `bytes ${start}-${end}/${media.length}`, 'accept-ranges': 'bytes' });
          return res.end(media.subarray(start, end + 1));
        }
        res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': String(media.length), 'accept-ranges': 'bytes' });
        return res.end(media);
      }
      json(res, 404, { code: 20404, message: 'not found', status: 404 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    recordings,
    /** The next participant creates fail with these answers, in order. */
    failNext(...items: Array<{ status: number; code: number }>) {
      failures.push(...items);
    },
    /** Requests other than recording downloads, from index `from` on. */
    rest: (from = 0) => requests.slice(from).filter((r) => !r.path.endsWith('.mp3')),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads a Server-Sent Events stream (fetch, so headers can be sent) into a list of `{ event, data }`. */
export async function readSse(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: Array<{ event: string; data: any }> = [];
  let ended = false;
  if (res.ok && res.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let index;
          while ((index = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, index);
            buffer = buffer.slice(index + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) events.push({ event, data: JSON.parse(data) });
          }
        }
      } catch {
        // aborted
      }
      ended = true;
    })();
  }
  return {
    status: res.status,
    body: res.ok ? null : await res.json(),
    events,
    get ended() {
      return ended;
    },
    close: () => controller.abort(),
  };
}
