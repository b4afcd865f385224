/**
 * Readable reasons for the `errorCode`s an entry can carry: Twilio's error
 * codes (https://www.twilio.com/docs/api/errors) for the ones a clinic meets,
 * and CareComms' own. Shown to practitioners, so plain words, no jargon.
 */
export const ERROR_REASONS: Readonly<Record<string, string>> = {
  '21211': 'The phone number is not valid.',
  '21408': 'Texting this country or region is not enabled for the clinic.',
  '21610': 'The patient has opted out of texts (replied STOP).',
  '21612': 'The message cannot be routed to this phone number.',
  '21614': 'The phone number is not a mobile number.',
  '21617': 'The message is too long.',
  '30003': 'The patient’s phone is switched off or out of reach.',
  '30004': 'The message was blocked.',
  '30005': 'The phone number does not exist or is no longer in service.',
  '30006': 'The number is a landline or its carrier cannot receive texts.',
  '30007': 'The carrier filtered the message.',
  '30008': 'The message could not be delivered.',
  provider_unavailable: 'The messaging service could not be reached; the message was not sent.',
  invalid_entry: 'The message has no recipient or text.',
};

/** A readable reason for an entry's `errorCode`, or null when there is no error. */
export function describeErrorCode(code: string | null | undefined): string | null {
  if (!code) return null;
  return ERROR_REASONS[code] ?? (/^\d+$/.test(code) ? `The message could not be sent (error ${code}).` : 'The message could not be sent.');
}
