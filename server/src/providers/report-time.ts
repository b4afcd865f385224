/** Report times before this are garbled or forged (Twilio did not exist). */
const EARLIEST = Date.UTC(2000, 0, 1);
/** Clocks differ a little; a report from further ahead than this is not believed. */
const FUTURE_MS = 24 * 3600_000;

/**
 * When a provider says something happened (`Timestamp`, `RecordingStartTime`):
 * its time when readable and plausible, else `now`. A date centuries away would
 * be a forged or garbled report, and could not be stored either.
 */
export function reportTime(raw: string | null, now: Date): Date {
  const parsed = raw ? new Date(raw) : null;
  if (!parsed || Number.isNaN(parsed.getTime())) return now;
  return parsed.getTime() < EARLIEST || parsed.getTime() > now.getTime() + FUTURE_MS ? now : parsed;
}
