'use strict';
/**
 * autocannon `setupRequest` for bench/tokens.ts, loaded by the load generator
 * (bench/load-generator.mjs; see inbound-sms-request.cjs for why CommonJS).
 * Each call POSTs `{}` to the next patient's `suffix` route (video-visits or
 * calls), round robin, as the bench's practitioner. Settings come from
 * BENCH_PATIENT_POST (JSON) in the environment.
 */
const { patientIds, suffix, token } = JSON.parse(process.env.BENCH_PATIENT_POST);
let n = 0;

module.exports = function patientPostRequest(req) {
  const patientId = patientIds[n++ % patientIds.length];
  return {
    ...req,
    path: `/api/v1/patients/${patientId}/${suffix}`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{}',
  };
};
