import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePhoneNumber } from 'libphonenumber-js';
import { api, databases, FAST_OUTBOX_ENV, startServer, waitUntil, type TestServer } from './helpers.js';
import { readSse } from './voice-mock.js';

interface AuditRow {
  id: string;
  tenant_id: string;
  actor_type: string;
  actor_id: string | null;
  patient_id: string | null;
  action: string;
  request_id: string | null;
  ip: string | null;
  created_at: Date;
}

/**
 * Audit: every read and write of a patient's data leaves an append-only row
 * naming who (actor type and id, request, address), which patient and what;
 * the database itself refuses to change or remove one; and no row carries a
 * message body, a phone number or a name.
 */
for (const kind of databases()) {
  describe(`audit (${kind})`, () => {
    let server: TestServer;
    let lee: string;
    let leeId: string;
    let tenantId: string;
    let lucas: { id: string; name: string; phone: string; externalId: string; email: string };
    /** Every message body and note written in this suite: none may reach the audit log. */
    const written: string[] = [];

    before(async () => {
      server = await startServer(kind, { env: { ...FAST_OUTBOX_ENV, SANDBOX_RING_TIMEOUT_MS: '5000' } });
      lee = await server.token('dr-lee');
      const session = (await api(server, '/api/v1/session', { token: lee })).body;
      leeId = session.practitioner.id;
      tenantId = session.tenant.id;
      const found = (await server.db.knex('patients').where({ tenant_id: tenantId, name: 'Lucas Silva' }).first()) as { id: string };
      lucas = (await api(server, `/api/v1/patients/${found.id}`, { token: lee })).body;
    });
    after(() => server.close());

    const lastId = async () => String((await server.db.knex('audit_log').max({ id: 'id' }).first())?.id ?? 0);
    const since = async (id: string) => (await server.db.knex('audit_log').where('id', '>', id).orderBy('id')) as AuditRow[];
    /** Runs `action` and returns the audit rows it wrote (reads are audited after the answer is built, so wait for them). */
    const audited = async (action: () => Promise<unknown>, expected: string[]) => {
      const from = await lastId();
      await action();
      return waitUntil(async () => {
        const rows = await since(from);
        return expected.every((a) => rows.some((r) => r.action === a)) && rows;
      }, 5000, `audit rows ${expected.join(', ')}`);
    };
    /** The row for `action`: the practitioner, the patient, the request and its address. */
    const byLee = (rows: AuditRow[], action: string) => {
      const row = rows.find((r) => r.action === action);
      assert.ok(row, `an audit row for ${action}; have ${rows.map((r) => r.action).join(', ')}`);
      assert.equal(row.tenant_id, tenantId, action);
      assert.equal(row.actor_type, 'practitioner', action);
      assert.equal(row.actor_id, leeId, action);
      assert.equal(row.patient_id, lucas.id, action);
      assert.ok(row.request_id, `${action} names its request`);
      assert.ok(row.ip, `${action} names the client address`);
      return row;
    };

    test('reads: the patient, the patient list and search, the history', async () => {
      byLee(await audited(() => api(server, `/api/v1/patients/${lucas.id}`, { token: lee }), ['patient.read']), 'patient.read');
      byLee(await audited(() => api(server, '/api/v1/patients?q=Lucas', { token: lee }), ['patient.list']), 'patient.list');
      const history = await audited(() => api(server, `/api/v1/correspondence?patientId=${lucas.id}`, { token: lee }), ['correspondence.list']);
      byLee(history, 'correspondence.list');
      // An empty page of the patient's history is a read of the patient too.
      let emptyFilter: string | null = null;
      for (const filter of ['channel=video&direction=inbound', 'channel=voice&direction=inbound', 'channel=email&direction=inbound']) {
        const page = await api(server, `/api/v1/correspondence?patientId=${lucas.id}&${filter}`, { token: lee });
        if (page.status === 200 && page.body.items.length === 0) emptyFilter ??= filter;
      }
      assert.ok(emptyFilter, 'a filter that gives Lucas an empty page');
      byLee(await audited(() => api(server, `/api/v1/correspondence?patientId=${lucas.id}&${emptyFilter}`, { token: lee }), ['correspondence.list']), 'correspondence.list');
      // A history across patients audits each patient on the page, once.
      const all = await audited(() => api(server, '/api/v1/correspondence?limit=50', { token: lee }), ['correspondence.list']);
      const patients = all.filter((r) => r.action === 'correspondence.list').map((r) => r.patient_id);
      assert.ok(patients.length > 1);
      assert.equal(new Set(patients).size, patients.length);
    });

    test('writes: an SMS, a whole call (start, hold, resume, notes, end), the recording played, a video visit (start, link, join, end)', async () => {
      const body = 'Audit check: your INR result is 2.4';
      written.push(body);
      const sent = await audited(() => api(server, `/api/v1/patients/${lucas.id}/messages`, { token: lee, body: { body } }), ['correspondence.sms.create']);
      byLee(sent, 'correspondence.sms.create');

      await server.db.knex('tenants').where({ id: tenantId }).update({ recording_enabled: true });
      try {
        let call!: { id: string; token: string; correspondenceId: string };
        byLee(
          await audited(async () => (call = (await api(server, `/api/v1/patients/${lucas.id}/calls`, { token: lee, method: 'POST' })).body), ['correspondence.voice.create']),
          'correspondence.voice.create',
        );
        byLee(await audited(() => api(server, `/api/v1/calls/${call.id}`, { token: lee }), ['call.read']), 'call.read');
        // The browser's leg rings the phone; the phone answers.
        const leg = await readSse(`${server.url}/api/v1/calls/${call.id}/signal`, { authorization: `Bearer ${call.token}` });
        await waitUntil(async () => (await api(server, `/api/v1/calls/${call.id}`, { token: lee })).body.status === 'ringing', 5000, 'ringing');
        assert.equal((await api(server, `/sandbox/api/calls/${call.id}/answer`, { body: { phone: lucas.phone } })).status, 200);
        await waitUntil(async () => (await api(server, `/api/v1/calls/${call.id}`, { token: lee })).body.status === 'in-progress', 5000, 'answered');
        byLee(await audited(() => api(server, `/api/v1/calls/${call.id}/hold`, { token: lee, method: 'POST' }), ['call.hold']), 'call.hold');
        byLee(await audited(() => api(server, `/api/v1/calls/${call.id}/resume`, { token: lee, method: 'POST' }), ['call.resume']), 'call.resume');
        const notes = 'Audit notes: patient reports dizziness';
        written.push(notes);
        byLee(await audited(() => api(server, `/api/v1/calls/${call.id}`, { token: lee, method: 'PATCH', body: { notes } }), ['correspondence.voice.notes']), 'correspondence.voice.notes');
        await new Promise((r) => setTimeout(r, 1100));
        byLee(await audited(() => api(server, `/api/v1/calls/${call.id}/end`, { token: lee, method: 'POST' }), ['correspondence.voice.ended']), 'correspondence.voice.ended');
        leg.close();
        await waitUntil(async () => (await server.db.knex('correspondence').where({ id: call.correspondenceId }).first()).recording_sid, 5000, 'the recording');

        // Playback, by session and by a recording link: each a practitioner's read of the patient's data.
        const played = await audited(async () => {
          const res = await fetch(`${server.url}/api/v1/calls/${call.id}/recording`, { headers: { authorization: `Bearer ${lee}` } });
          assert.equal(res.status, 200);
          await res.arrayBuffer();
        }, ['call.recording.play']);
        byLee(played, 'call.recording.play');
        const link = (await api(server, `/api/v1/calls/${call.id}/recording/link`, { token: lee, method: 'POST' })).body;
        const viaLink = await audited(async () => {
          const res = await fetch(server.url + link.url);
          assert.equal(res.status, 200);
          await res.arrayBuffer();
        }, ['call.recording.play']);
        byLee(viaLink, 'call.recording.play');
      } finally {
        await server.db.knex('tenants').where({ id: tenantId }).update({ recording_enabled: false });
      }

      let visit!: { id: string; joinUrl: string; correspondenceId: string };
      byLee(
        await audited(async () => (visit = (await api(server, `/api/v1/patients/${lucas.id}/video-visits`, { token: lee, method: 'POST' })).body), ['correspondence.video.create']),
        'correspondence.video.create',
      );
      const linked = await audited(() => api(server, `/api/v1/video-visits/${visit.id}/send-link`, { token: lee, method: 'POST' }), ['correspondence.sms.create', 'correspondence.video.link_sent']);
      byLee(linked, 'correspondence.sms.create');
      byLee(linked, 'correspondence.video.link_sent');
      // The patient's join: no practitioner, but the patient, the visit's tenant, the request and address.
      const joined = await audited(
        () => api(server, `/api/v1/join/${visit.joinUrl.split('/join/')[1]}`, { method: 'POST', headers: { 'x-forwarded-for': '203.0.113.77' } }),
        ['video.join'],
      );
      const join = joined.find((r) => r.action === 'video.join')!;
      assert.equal(join.actor_type, 'patient');
      assert.equal(join.actor_id, null);
      assert.equal(join.patient_id, lucas.id);
      assert.equal(join.tenant_id, tenantId);
      assert.equal(join.ip, '203.0.113.77');
      assert.ok(join.request_id);
      byLee(await audited(() => api(server, `/api/v1/video-visits/${visit.id}/end`, { token: lee, method: 'POST' }), ['correspondence.video.room-ended']), 'correspondence.video.room-ended');
    });

    test('the host backend’s writes are audited against its API key', async () => {
      const rows = await audited(
        () => api(server, '/api/v1/admin/correspondence', { token: server.keys.demoClinicApiKey, body: { patient: lucas.externalId, channel: 'email', body: 'Audit: emailed the discharge summary' } }),
        ['correspondence.email.create'],
      );
      written.push('Audit: emailed the discharge summary');
      const row = rows.find((r) => r.action === 'correspondence.email.create')!;
      assert.equal(row.actor_type, 'api_key');
      assert.equal(row.patient_id, lucas.id);
      assert.equal(row.tenant_id, tenantId);
    });

    test('a refused request audits nothing about the patient', async () => {
      const patel = await server.token('dr-patel');
      const from = await lastId();
      for (const path of [`/api/v1/patients/${lucas.id}`, `/api/v1/correspondence?patientId=${lucas.id}`]) {
        assert.equal((await api(server, path, { token: patel })).status, 404);
      }
      assert.equal((await api(server, `/api/v1/patients/${lucas.id}/messages`, { token: patel, body: { body: 'x' } })).status, 404);
      await new Promise((r) => setTimeout(r, 100));
      // Rows by the system (the sandbox reporting an earlier test's message delivered) may land meanwhile; none by a caller.
      assert.deepEqual((await since(from)).filter((r) => r.patient_id === lucas.id && r.actor_type !== 'system'), []);
    });

    test('no audit row holds a message body, a note, a phone number, a name, an MRN or an email', async () => {
      const rows = await server.db.knex('audit_log').select('*');
      assert.ok(rows.length > 20);
      const text = JSON.stringify(rows);
      const patients = (await server.db.knex('patients').select('name', 'phone', 'external_id', 'email')) as Array<{ name: string; phone: string | null; external_id: string; email: string | null }>;
      const forbidden = [...written, ...patients.flatMap((p) => [p.name, p.external_id, p.email ?? '', ...(p.phone ? [p.phone, p.phone.slice(1), parsePhoneNumber(p.phone).nationalNumber] : [])])].filter(Boolean);
      for (const secret of forbidden) assert.ok(!text.includes(secret), `no audit row contains “${secret}”`);
      // The columns themselves leave no room for content: who, which patient, what, when, from where.
      assert.deepEqual(Object.keys(rows[0]).sort(), ['action', 'actor_id', 'actor_type', 'created_at', 'id', 'ip', 'patient_id', 'request_id', 'tenant_id']);
    });

    test('the database refuses to update, delete or truncate audit rows', async () => {
      const before = (await server.db.knex('audit_log').orderBy('id').select('*')) as AuditRow[];
      assert.ok(before.length > 0);
      const first = before[0]!;
      await assert.rejects(server.db.knex('audit_log').where({ id: first.id }).update({ action: 'tampered' }), /append-only/);
      await assert.rejects(server.db.knex('audit_log').where({ id: first.id }).update({ patient_id: null }), /append-only/);
      await assert.rejects(server.db.knex('audit_log').where({ id: first.id }).delete(), /append-only/);
      await assert.rejects(server.db.knex('audit_log').delete(), /append-only/);
      await assert.rejects(server.db.knex.raw('TRUNCATE audit_log'), /append-only/);
      // Inside a transaction too, and the transaction is rolled back whole.
      await assert.rejects(
        server.db.knex.transaction(async (trx) => {
          await trx('audit_log').insert({ tenant_id: tenantId, actor_type: 'system', action: 'test.marker' });
          await trx('audit_log').where({ id: first.id }).delete();
        }),
        /append-only/,
      );
      assert.equal(await server.db.knex('audit_log').where({ action: 'test.marker' }).first(), undefined);
      const afterRows = (await server.db.knex('audit_log').where('id', '<=', before.at(-1)!.id).orderBy('id').select('*')) as AuditRow[];
      assert.deepEqual(afterRows, before, 'every row as it was');
      // Appending still works.
      await server.db.knex('audit_log').insert({ tenant_id: tenantId, actor_type: 'system', action: 'test.append' });
      assert.ok(await server.db.knex('audit_log').where({ action: 'test.append' }).first());
    });
  });
}
