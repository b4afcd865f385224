'use strict';
/**
 * autocannon `setupRequest` for bench/webhooks.ts, loaded by the load
 * generator's process (bench/load-generator.mjs: functions cannot cross to
 * another process; a file path can, and it must be require()-able, hence
 * CommonJS). Each call gives a new inbound SMS with a MessageSid never used
 * before (a random prefix per process, then a counter), signed as Twilio
 * signs it, with twilio's own helper, off the measured server's process.
 * Settings come from BENCH_INBOUND_SMS (JSON) in the environment.
 *
 * The first SIGNED_AHEAD requests are made and signed when the module loads,
 * before the warm-up, as a load generator prepares its requests before it
 * fires them: signing one as it is sent cost the load generator about 30 µs
 * of CPU, on the 2 cores it shares with the server it measures (about a
 * twentieth of the CPU a webhook takes in all). Requests past them are made
 * as they are sent.
 */
const { randomBytes } = require('node:crypto');
const twilio = require('twilio');

const { authToken, url, to, senders, senderPrefix } = JSON.parse(process.env.BENCH_INBOUND_SMS);
/** More than a warm-up and a measured run (10 s) send at 10,000 webhooks a second; about 1 s to make, 40 MB. */
const SIGNED_AHEAD = 100_000;
const sidPrefix = randomBytes(8).toString('hex');

/** The n-th request's body and headers (n ≥ 1). */
function make(n) {
  const params = {
    MessageSid: `SM${sidPrefix}${n.toString(16).padStart(16, '0')}`,
    From: `${senderPrefix}${String(1 + (n % senders)).padStart(5, '0')}`,
    To: to,
    Body: `Bench reply ${n}`,
    NumMedia: '0',
  };
  return {
    body: new URLSearchParams(params).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, url, params),
    },
  };
}

const ahead = Array.from({ length: SIGNED_AHEAD }, (_, i) => make(i + 1));
let n = 0;

module.exports = function inboundSmsRequest(req) {
  n += 1;
  if (n > SIGNED_AHEAD) return { ...req, ...make(n) };
  const made = ahead[n - 1];
  ahead[n - 1] = undefined;
  return { ...req, ...made };
};
