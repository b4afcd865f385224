/** Communication channels a correspondence entry can belong to. */
export const CHANNELS = ['sms', 'email', 'voice', 'video'] as const;
export type Channel = (typeof CHANNELS)[number];

export const DIRECTIONS = ['outbound', 'inbound'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/**
 * Every status a correspondence entry may take, across channels. SMS statuses
 * follow Twilio's message lifecycle, voice follows Twilio's call statuses, video
 * follows Twilio room statuses; `logged` is for entries recorded elsewhere (e.g. email).
 */
export const STATUSES = [
  // shared start states
  'logged',
  'queued',
  'initiated',
  // SMS
  'sending',
  'sent',
  'delivered',
  'undelivered',
  'received',
  // voice
  'ringing',
  'in-progress',
  'completed',
  'busy',
  'no-answer',
  'canceled',
  // video
  'created',
  'waiting',
  // any channel
  'failed',
] as const;
export type Status = (typeof STATUSES)[number];

/** Statuses after which no webhook may move an entry again. */
export const TERMINAL_STATUSES: ReadonlySet<Status> = new Set<Status>([
  'logged',
  'delivered',
  'undelivered',
  'received',
  'completed',
  'busy',
  'no-answer',
  'canceled',
  'failed',
]);

/**
 * Progress rank of each status. A status update is applied only when it moves
 * forward: late or duplicate webhooks (e.g. `sent` after `delivered`) are ignored.
 */
const STATUS_RANK: Record<Status, number> = {
  queued: 0,
  initiated: 0,
  created: 0,
  sending: 1,
  waiting: 1,
  ringing: 1,
  sent: 2,
  'in-progress': 2,
  logged: 9,
  delivered: 9,
  undelivered: 9,
  received: 9,
  completed: 9,
  busy: 9,
  'no-answer': 9,
  canceled: 9,
  failed: 9,
};

export function isStatus(value: unknown): value is Status {
  return typeof value === 'string' && (STATUSES as readonly string[]).includes(value);
}

export function isTerminalStatus(status: Status): boolean {
  return TERMINAL_STATUSES.has(status);
}

/**
 * Whether an entry currently in `from` may move to `to`. Terminal statuses never
 * change; otherwise only a forward move is allowed.
 */
export function canTransition(from: Status, to: Status): boolean {
  if (from === to) return false;
  if (isTerminalStatus(from)) return false;
  return STATUS_RANK[to] > STATUS_RANK[from];
}

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && (CHANNELS as readonly string[]).includes(value);
}

export function isDirection(value: unknown): value is Direction {
  return typeof value === 'string' && (DIRECTIONS as readonly string[]).includes(value);
}
