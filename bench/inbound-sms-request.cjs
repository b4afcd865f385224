'use strict';
/**
 * autocannon `setupRequest` for bench/webhooks.ts, loaded by the load
 * generator's process (bench/load-generator.mjs: functions cannot cross to
 * another process; a file path can, and it must be require()-able, hence
 * CommonJS). Each call makes a new inbound SMS with a MessageSid never used
 * before (a random prefix per process, then a counter) and signs it as Twilio
 * does, with twilio's own helper, off the measured server's process. Settings
 * come from BENCH_INBOUND_SMS (JSON) in the environment.
 */
const { randomBytes } = require('node:crypto');
const twilio = require('twilio');

const { authToken, url, to, senders, senderPrefix } = JSON.parse(process.env.BENCH_INBOUND_SMS);
const sidPrefix = randomBytes(8).toString('hex');
let n = 0;

module.exports = function inboundSmsRequest(req) {
  n += 1;
  const params = {
    MessageSid: `SM${sidPrefix}${n.toString(16).padStart(16, '0')}`,
    From: `${senderPrefix}${String(1 + (n % senders)).padStart(5, '0')}`,
    To: to,
    Body: `Bench reply ${n}`,
    NumMedia: '0',
  };
  return {
    ...req,
    body: new URLSearchParams(params).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, url, params),
    },
  };
};
