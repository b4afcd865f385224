/**
 * Plain inbound SMS that arrive together are written by one statement
 * (CorrespondenceService.createInboundSms): each still gets its own entry,
 * status event, audit row and realtime event, duplicates and unknown or shared
 * numbers come out as they do one at a time, and one message the database
 * cannot store fails alone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { REQUEST_BATCH_MAX } from '../src/db/batch.js';
import type { AuditActor } from '../src/repositories/audit.js';
import { databases, startServer, type TestServer } from './helpers.js';

interface PatientRow {
  id: string;
  tenant_id: string;
  phone: string | null;
}

for (const kind of databases()) {
  describe(`inbound SMS written together (${kind})`, () => {
    let server: TestServer;
    let tenantId: string;
    let patients: PatientRow[];
    before(async () => {
      server = await startServer(kind);
      const knex = server.db.knex;
      tenantId = (await knex('tenants').where({ slug: 'demo-clinic' }).first()).id;
      // Twenty patients with numbers of their own, for messages that all arrive at once.
      await knex('patients').insert(
        Array.from({ length: 20 }, (_, i) => ({ tenant_id: tenantId, external_id: `BATCH-${i}`, name: `Batch Patient ${i}`, phone: `+614915709${String(i).padStart(2, '0')}` })),
      );
      patients = await knex('patients').where({ tenant_id: tenantId }).andWhere('external_id', 'like', 'BATCH-%').orderBy('phone');
    });
    after(() => server.close());

    const actor = (i: number): AuditActor => ({ tenantId, type: 'webhook', id: null, requestId: `req-${i}`, ip: '203.0.113.7' });
    const sms = (from: string, body: string, sid: string | null) => ({ tenantId, from, body, providerSid: sid, segments: 1 });
    const statementsDuring = async <T>(run: () => Promise<T>) => {
      const seen: string[] = [];
      const onQuery = (q: { sql: string }) => {
        if (!/pg_notify|from "realtime_events"|from "outbox"|update outbox|with next as/i.test(q.sql)) seen.push(q.sql);
      };
      server.db.knex.on('query', onQuery);
      try {
        return { result: await run(), statements: seen };
      } finally {
        server.db.knex.off('query', onQuery);
      }
    };

    test('twenty at once: a statement per 16, each with its own entry, status event, audit row and realtime event', async () => {
      const service = server.app.services.correspondence;
      const { result, statements } = await statementsDuring(() =>
        Promise.all(patients.map((p, i) => service.createInboundSms(sms(p.phone!, `together ${i}`, `SM${'b'.repeat(30)}${String(i).padStart(2, '0')}`), actor(i)))),
      );
      assert.deepEqual(result, patients.map(() => 'stored'));
      // Twenty in one turn: a statement for the first 16 (REQUEST_BATCH_MAX) and one for the other 4 once the first has finished (INBOUND_BATCH_CONCURRENCY).
      assert.equal(REQUEST_BATCH_MAX, 16);
      assert.equal(statements.length, 2, `two statements for twenty:\n${statements.join('\n')}`);

      const knex = server.db.knex;
      // History order: (created_at, id). Entries written in the same microsecond have no order of their own.
      const entries = await knex('correspondence').where('body', 'like', 'together %').orderBy([{ column: 'created_at' }, { column: 'id' }]);
      const bySender = new Map(entries.map((e: { body: string; patient_id: string }) => [e.patient_id, e.body]));
      assert.deepEqual(patients.map((p) => bySender.get(p.id)), patients.map((_, i) => `together ${i}`), 'each against its sender');
      const ids = entries.map((e: { id: string }) => e.id);
      const events = await knex('correspondence_events').whereIn('correspondence_id', ids);
      assert.equal(events.length, 20);
      assert.ok(events.every((e: { status: string }) => e.status === 'received'));
      const audits = await knex('audit_log').where({ action: 'correspondence.sms.create' }).andWhere('request_id', 'like', 'req-%');
      const auditedBy = new Map(audits.map((a: { request_id: string; patient_id: string }) => [a.request_id, a.patient_id]));
      assert.equal(audits.length, 20);
      assert.deepEqual(patients.map((_, i) => auditedBy.get(`req-${i}`)), patients.map((p) => p.id), 'each audited with its own request');
      const realtime = await knex('realtime_events').where({ type: 'correspondence.created' }).whereIn(knex.raw(`(payload->>'id')::uuid`) as never, ids).orderBy('id');
      // In history order within each statement; the two statements, one after the other.
      const batchOf = new Map(entries.map((e: { id: string; patient_id: string }) => [e.id, patients.findIndex((p) => p.id === e.patient_id) < REQUEST_BATCH_MAX]));
      for (const first of [true, false]) {
        assert.deepEqual(
          realtime.map((r: { payload: { id: string } }) => r.payload.id).filter((id: string) => batchOf.get(id) === first),
          ids.filter((id: string) => batchOf.get(id) === first),
          'one realtime event each, in history order',
        );
      }
      assert.equal(realtime.length, 20);
    });

    test('duplicates, unknown and shared numbers in one batch come out as they do alone', async () => {
      const knex = server.db.knex;
      const shared = '+61491570977';
      await knex('patients').insert([
        { tenant_id: tenantId, external_id: 'BATCH-SHARED-1', name: 'Shared One', phone: shared },
        { tenant_id: tenantId, external_id: 'BATCH-SHARED-2', name: 'Shared Two', phone: shared },
      ]);
      const service = server.app.services.correspondence;
      const [a, b] = patients;
      await service.createInboundSms(sms(a!.phone!, 'first delivery', 'SMmixed0000000000000000000000001'), actor(100));
      const result = await Promise.all([
        service.createInboundSms(sms(a!.phone!, 'first delivery', 'SMmixed0000000000000000000000001'), actor(101)), // Twilio's retry
        service.createInboundSms(sms(b!.phone!, 'twice in one batch', 'SMmixed0000000000000000000000002'), actor(102)),
        service.createInboundSms(sms(b!.phone!, 'twice in one batch', 'SMmixed0000000000000000000000002'), actor(103)),
        service.createInboundSms(sms('+61491570988', 'who is this', 'SMmixed0000000000000000000000003'), actor(104)),
        service.createInboundSms(sms(shared, 'family phone', 'SMmixed0000000000000000000000004'), actor(105)),
        service.createInboundSms(sms(b!.phone!, 'no sid', null), actor(106)),
      ]);
      assert.deepEqual(result, ['duplicate', 'stored', 'duplicate', null, null, 'stored']);
      const stored = await knex('correspondence').where('provider_sid', 'like', 'SMmixed%').orWhere({ body: 'no sid' });
      assert.deepEqual(stored.map((e: { body: string }) => e.body).sort(), ['first delivery', 'no sid', 'twice in one batch']);
      const audited = await knex('audit_log').whereIn('request_id', ['req-101', 'req-102', 'req-103', 'req-104', 'req-105', 'req-106']).orderBy('request_id');
      assert.deepEqual(audited.map((r: { request_id: string }) => r.request_id), ['req-102', 'req-106'], 'only what was written is audited');
    });

    test('a message the database cannot store fails alone; the rest of its batch is stored', async () => {
      const service = server.app.services.correspondence;
      const [, , c, d] = patients;
      const outcomes = await Promise.allSettled([
        service.createInboundSms(sms(c!.phone!, 'before the bad one', 'SMpoison000000000000000000000001'), actor(200)),
        // PostgreSQL text cannot hold a NUL character: this one is refused.
        service.createInboundSms(sms(d!.phone!, 'bad \u0000 byte', 'SMpoison000000000000000000000002'), actor(201)),
        service.createInboundSms(sms(d!.phone!, 'after the bad one', 'SMpoison000000000000000000000003'), actor(202)),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
      const stored = await server.db.knex('correspondence').where('provider_sid', 'like', 'SMpoison%');
      assert.deepEqual(stored.map((e: { body: string }) => e.body).sort(), ['after the bad one', 'before the bad one']);
    });
  });
}
