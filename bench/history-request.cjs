'use strict';
/**
 * autocannon `setupRequest` for bench/history.ts, loaded by the load
 * generator's process (see inbound-sms-request.cjs for why CommonJS). Each
 * call asks for the latest page of the next of the practitioner's patients,
 * round robin: their 50,000 entries cycle through the server's kept
 * renderings, which hold about half of them, so pages are rendered afresh.
 * Settings come from BENCH_HISTORY (JSON) in the environment.
 */
const { path, patientIds } = JSON.parse(process.env.BENCH_HISTORY);
let n = Math.floor(Math.random() * patientIds.length);

module.exports = function historyRequest(req) {
  n = (n + 1) % patientIds.length;
  return { ...req, path: `${path}&patientId=${patientIds[n]}` };
};
