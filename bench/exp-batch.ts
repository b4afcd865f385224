import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { BENCH_ADMIN_URL, benchApp, benchDatabase, load } from './lib.js';
const database = await benchDatabase(BENCH_ADMIN_URL);
const server = await benchApp(database.url);
const tenant = await server.db.knex('tenants').where({ slug: 'demo-clinic' }).first();
const patient = await server.db.knex('patients').where({ tenant_id: tenant.id }).whereNotNull('phone').first();
await server.close();
const pool = new pg.Pool({ connectionString: database.url, max: 10 });
let n = 0;
const RECORDED = `a AS (INSERT INTO audit_log (tenant_id, actor_type, actor_id, patient_id, action, request_id, ip) SELECT c.tenant_id, 'system', NULL, c.patient_id, 'correspondence.sms.create', NULL, NULL FROM c),
  named AS (SELECT c.*, (SELECT p.name FROM patients p WHERE p.id = c.patient_id) AS patient_name FROM c),
  r AS (INSERT INTO realtime_events (tenant_id, patient_id, type, payload) SELECT tenant_id, patient_id, 'correspondence.created', to_jsonb(named) FROM named RETURNING id)
  SELECT named.id, r.id AS realtime_event_id FROM named, r`;
const single = `WITH sender AS (SELECT id FROM patients WHERE tenant_id = $1 AND phone = $2 LIMIT 2),
  c AS (INSERT INTO correspondence (tenant_id, patient_id, practitioner_id, channel, direction, status, body, contact, provider_sid, segments)
    SELECT $1::uuid, id, NULL, 'sms', 'inbound', 'received', $3::text, $2::text, $4::text, 1 FROM sender WHERE (SELECT count(*) FROM sender) = 1 RETURNING *),
  e AS (INSERT INTO correspondence_events (correspondence_id, provider_sid, status) SELECT id, provider_sid, status FROM c), ${RECORDED}`;
const batch = `WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(tenant_id uuid, phone text, body text, sid text)),
  sender AS (SELECT input.sid, min(p.id::text)::uuid AS patient_id, count(*) AS n FROM input JOIN patients p ON p.tenant_id = input.tenant_id AND p.phone = input.phone GROUP BY input.sid),
  c AS (INSERT INTO correspondence (tenant_id, patient_id, practitioner_id, channel, direction, status, body, contact, provider_sid, segments)
    SELECT input.tenant_id, sender.patient_id, NULL, 'sms', 'inbound', 'received', input.body, input.phone, input.sid, 1 FROM input JOIN sender ON sender.sid = input.sid AND sender.n = 1
    ON CONFLICT (tenant_id, provider_sid) WHERE provider_sid IS NOT NULL DO NOTHING RETURNING *),
  e AS (INSERT INTO correspondence_events (correspondence_id, provider_sid, status) SELECT id, provider_sid, status FROM c), ${RECORDED}`;
let queue: Array<{ sid: string; done: () => void }> = [];
let scheduled = false;
const sizes: number[] = [];
function flush() {
  scheduled = false;
  const items = queue; queue = [];
  sizes.push(items.length);
  const input = JSON.stringify(items.map((i) => ({ tenant_id: tenant.id, phone: patient.phone, body: 'Bench reply', sid: i.sid })));
  pool.query({ name: 'batch', text: batch, values: [input] }).then(() => items.forEach((i) => i.done()), (e) => { console.error(e.message); items.forEach((i) => i.done()); });
}
const mode = process.env.MODE ?? 'single';
const http = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const sid = `SM${(++n).toString(16).padStart(32, '0')}`;
    const done = () => { res.writeHead(200, { 'content-type': 'text/xml' }); res.end('<Response/>'); };
    if (mode === 'single') pool.query({ name: 'single', text: single, values: [tenant.id, patient.phone, 'Bench reply', sid] }).then(done, (e) => { console.error(e.message); done(); });
    else { queue.push({ sid, done }); if (!scheduled) { scheduled = true; setImmediate(flush); } }
  });
});
await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
const r = await load(url, { connections: 50, warmupSeconds: 2, method: 'POST' });
console.log(mode, r.requestsPerSecond, 'p50', r.p50, 'p99', r.p99, 'errors', r.errors + r.non2xx, mode === 'batch' ? `avg batch ${(sizes.reduce((a, b) => a + b, 0) / sizes.length).toFixed(1)}` : '');
http.closeAllConnections(); http.close(); await pool.end(); await database.drop();
