/** What an inbound text asks for, when it is one of the carrier-standard keywords. */
export type SmsKeyword = 'opt_out' | 'opt_in' | 'help';

/** Twilio's default set on long codes (docs.twilio.com, Advanced Opt-Out), REVOKE and OPTOUT included. */
const KEYWORDS: Record<string, SmsKeyword> = {
  STOP: 'opt_out',
  STOPALL: 'opt_out',
  UNSUBSCRIBE: 'opt_out',
  CANCEL: 'opt_out',
  END: 'opt_out',
  QUIT: 'opt_out',
  REVOKE: 'opt_out',
  OPTOUT: 'opt_out',
  START: 'opt_in',
  YES: 'opt_in',
  UNSTOP: 'opt_in',
  HELP: 'help',
};

/**
 * The keyword a whole message consists of (trimmed, any case), as Twilio's
 * default opt-out handling reads it; `stop please` is a message, not a keyword.
 */
export function smsKeyword(body: string): SmsKeyword | null {
  return KEYWORDS[body.trim().toUpperCase()] ?? null;
}
