/**
 * The sandbox test API as the simulator uses it. Everything here is plain
 * fetch/EventSource against this server: /sandbox/api/*.
 */

async function problemMessage(res) {
  try {
    const body = await res.json();
    return body.detail || body.title || `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

/** The phone's messages, oldest first; `after` gives only newer ones. */
export async function listMessages(phone, after) {
  const query = new URLSearchParams({ phone });
  if (after) query.set('after', after);
  const res = await fetch(`/sandbox/api/messages?${query}`);
  if (!res.ok) throw new Error(await problemMessage(res));
  return (await res.json()).items;
}

/** Texts the clinic from this phone; handled exactly as Twilio's inbound webhook. */
export async function sendText(from, body, to) {
  const res = await fetch('/sandbox/api/sms', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(to ? { from, body, to } : { from, body }),
  });
  if (!res.ok) throw new Error(await problemMessage(res));
  return res.json();
}

/**
 * The phone's one event stream, messages and calls both: a browser opens few
 * connections to a server (6 over HTTP/1.1), and the practitioner's page in
 * the same browser needs some during a call. Closed when its last watcher stops.
 */
const streams = new Map();
function watch(phone, listeners) {
  let shared = streams.get(phone);
  if (!shared) {
    shared = { source: new EventSource(`/sandbox/api/events?${new URLSearchParams({ phone, calls: '1' })}`), watchers: 0 };
    streams.set(phone, shared);
  }
  shared.watchers += 1;
  for (const [type, listener] of listeners) shared.source.addEventListener(type, listener);
  return () => {
    for (const [type, listener] of listeners) shared.source.removeEventListener(type, listener);
    if (--shared.watchers === 0) {
      shared.source.close();
      streams.delete(phone);
    }
  };
}

/**
 * Live messages for this phone (new, or a status change). Calls `onOpen` on
 * every (re)connection so the caller can catch up on what it missed.
 */
export function watchMessages(phone, { onMessage, onOpen, onDown }) {
  return watch(phone, [
    ['message', (event) => onMessage(JSON.parse(event.data))],
    ['open', () => onOpen()],
    ['error', () => onDown()],
  ]);
}

/**
 * Calls to this phone: `onCall` gets the call's whole state whenever it
 * changes (ringing, answered, on hold, ended); calls in progress are sent
 * again on every (re)connection.
 */
export function watchCalls(phone, { onCall, onOpen, onDown }) {
  return watch(phone, [
    ['call', (event) => onCall(JSON.parse(event.data))],
    ['open', () => onOpen?.()],
    ['error', () => onDown?.()],
  ]);
}

async function callAction(id, action, phone) {
  const res = await fetch(`/sandbox/api/calls/${encodeURIComponent(id)}/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phone }),
  });
  if (!res.ok) throw new Error(await problemMessage(res));
  return res.json();
}

/** Answers a ringing call; resolves to `{ call, seatKey }` (the key opens the call's audio seat). */
export const answerCall = (id, phone) => callAction(id, 'answer', phone);
/** Declines a ringing call (the clinic sees "busy"). */
export const declineCall = (id, phone) => callAction(id, 'decline', phone);
/** Hangs up. */
export const hangUpCall = (id, phone) => callAction(id, 'hangup', phone);
