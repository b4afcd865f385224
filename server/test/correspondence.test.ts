import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { get as httpGet } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { ERROR_REASONS } from '@carecomms/core';
import { CorrespondenceRepository, type HistoryPage, type HistoryQuery } from '../src/repositories/correspondence.js';
import { toCorrespondence, type CorrespondenceRow } from '../src/repositories/rows.js';
import { api, databases, startServer, type TestServer } from './helpers.js';

interface Entry {
  id: string;
  patientId: string;
  channel: string;
  direction: string;
  createdAt: string;
  body: string | null;
}

for (const kind of databases()) {
  describe(`correspondence history (${kind})`, () => {
    let server: TestServer;
    let lee: string;
    let patel: string;
    let other: string;
    let patients: Array<{ id: string; name: string; externalId: string }>;
    before(async () => {
      server = await startServer(kind);
      [lee, patel, other] = await Promise.all([server.token('dr-lee'), server.token('dr-patel'), server.token('dr-other')]);
      patients = (await api(server, '/api/v1/patients', { token: lee })).body.items;
    });
    after(() => server.close());
    const byName = (name: string) => patients.find((p) => p.name === name)!;

    test('newest first, every field of the contract', async () => {
      const res = await api(server, `/api/v1/correspondence?patientId=${byName('Margaret Thompson').id}`, { token: lee });
      assert.equal(res.status, 200);
      const items: Entry[] = res.body.items;
      assert.equal(items.length, 5);
      const times = items.map((e) => Date.parse(e.createdAt));
      assert.deepEqual(times, [...times].sort((a, b) => b - a));
      assert.deepEqual(Object.keys(items[0]!).sort(), [
        'body', 'channel', 'contact', 'createdAt', 'direction', 'durationSeconds', 'errorCode', 'errorReason', 'hasRecording', 'id', 'notes',
        'patientId', 'patientName', 'practitionerId', 'providerSid', 'segments', 'session', 'status', 'updatedAt',
      ]);
      assert.deepEqual(new Set(items.map((e) => e.channel)), new Set(['sms', 'email', 'voice', 'video']));
      assert.ok(items.every((e) => (e as Entry & { patientName: string }).patientName === 'Margaret Thompson'));
    });

    test('filters by channel and direction', async () => {
      const sms = (await api(server, '/api/v1/correspondence?channel=sms', { token: lee })).body.items as Entry[];
      assert.ok(sms.length > 0);
      assert.ok(sms.every((e) => e.channel === 'sms'));
      const inbound = (await api(server, '/api/v1/correspondence?channel=sms&direction=inbound', { token: lee })).body.items as Entry[];
      assert.ok(inbound.length > 0 && inbound.every((e) => e.direction === 'inbound' && e.channel === 'sms'));
      assert.ok(inbound.length < sms.length);
    });

    test('without a patient, only the practitioner’s patients appear', async () => {
      const mine = new Set(((await api(server, '/api/v1/patients', { token: patel })).body.items as Array<{ id: string }>).map((p) => p.id));
      const items = (await api(server, '/api/v1/correspondence?limit=200', { token: patel })).body.items as Entry[];
      assert.ok(items.length > 0);
      assert.ok(items.every((e) => mine.has(e.patientId)));
      const otherItems = (await api(server, '/api/v1/correspondence?limit=200', { token: other })).body.items as Entry[];
      assert.ok(otherItems.every((e) => !patients.some((p) => p.id === e.patientId)));
    });

    test('an ungranted or foreign patient’s history is 404', async () => {
      const lucas = byName('Lucas Silva').id;
      for (const token of [patel, other]) {
        const res = await api(server, `/api/v1/correspondence?patientId=${lucas}`, { token });
        assert.equal(res.status, 404);
        assert.equal(res.body.code, 'not_found');
      }
    });

    test('an unknown channel, a bad cursor or a limit over 200 is 422', async () => {
      for (const query of ['channel=fax', 'direction=sideways', 'cursor=abc', 'limit=201', 'patientId=123', `cursor=${Buffer.from('["2020-01-01","x"]').toString('base64url')}`]) {
        const res = await api(server, `/api/v1/correspondence?${query}`, { token: lee });
        assert.equal(res.status, 422, query);
        assert.ok(['validation_failed', 'invalid_cursor'].includes(res.body.code), query);
      }
    });

    test('the page the database writes as JSON is what toCorrespondence makes of the same rows', async () => {
      // The history page is built by PostgreSQL (correspondenceJsonSql); live events and every other
      // read go through toCorrespondence. Both must give the same entry, field for field.
      const patient = byName('Grace Kim');
      const knex = server.db.knex;
      const tenant = await knex('tenants').where({ slug: 'demo-clinic' }).first();
      const practitioner = await knex('practitioners').where({ tenant_id: tenant.id, external_id: 'dr-lee' }).first();
      const codes = [null, '', ...Object.keys(ERROR_REASONS), '99999', 'not-a-code', "it's"];
      const bodies = ['plain', 'quote " backslash \\ slash / tab \t newline \n', 'control \u0001\u001f', 'emoji 🩺 and ’curly’', '<b>html</b>', null];
      // Microsecond fractions whose milliseconds a float multiply would get wrong (0.57 × 1000 = 569.999…).
      const fractions = ['000000', '570000', '579999', '999999', '001000', '123456'];
      const rows = codes.map((code, i) => ({
        tenant_id: tenant.id,
        patient_id: patient.id,
        practitioner_id: i % 2 ? null : practitioner.id,
        channel: (['sms', 'voice', 'video', 'email'] as const)[i % 4],
        direction: i % 3 ? 'outbound' : 'inbound',
        status: code ? 'failed' : 'delivered',
        body: bodies[i % bodies.length],
        contact: i % 2 ? '+61491570156' : null,
        duration_seconds: i % 3 ? null : i * 7,
        recording_sid: i % 4 === 1 ? `RE${i}` : null,
        notes: i % 5 ? null : 'note "quoted"',
        session: i % 3 === 2 ? JSON.stringify({ roomName: `room-${i}`, nested: { a: [1, 'two', null] } }) : null,
        provider_sid: i % 2 ? `SM${i}` : null,
        error_code: code,
        segments: i % 2 ? i : null,
        created_at: `2030-01-0${1 + (i % 9)}T10:${String(i).padStart(2, '0')}:05.${fractions[i % fractions.length]}Z`,
        updated_at: `2030-02-01T00:00:00.${fractions[(i + 1) % fractions.length]}Z`,
      }));
      const ids = (await knex('correspondence').insert(rows).returning('id')).map((r: { id: string }) => r.id);
      const page = await api(server, `/api/v1/correspondence?patientId=${patient.id}&limit=200`, { token: lee });
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^application\/json/);
      const fromSql = new Map((page.body.items as Array<{ id: string }>).map((e) => [e.id, e]));
      const stored: CorrespondenceRow[] = await knex('correspondence')
        .whereIn('id', ids)
        .select('correspondence.*', knex.raw('(SELECT name FROM patients WHERE id = correspondence.patient_id) AS patient_name'));
      assert.equal(stored.length, codes.length);
      for (const row of stored) {
        const i = ids.indexOf(row.id);
        const expected = { ...toCorrespondence(row), createdAt: rows[i]!.created_at.slice(0, 23) + 'Z', updatedAt: rows[i]!.updated_at.slice(0, 23) + 'Z' };
        assert.deepEqual(fromSql.get(row.id), expected, `entry ${i} (error code ${JSON.stringify(row.error_code)})`);
      }
      // The reasons came from the database's copy of the table, not a default.
      assert.equal((fromSql.get(ids[codes.indexOf('30005')]!) as { errorReason?: string }).errorReason, ERROR_REASONS['30005']);
      await knex('correspondence').whereIn('id', ids).delete();
    });

    test('a page is sent compressed to a client that accepts it, and as it is to one that does not', async () => {
      const path = '/api/v1/correspondence?limit=50';
      // Read as sent, with node:http: fetch would decode it.
      const read = (acceptEncoding: string) =>
        new Promise<{ headers: Headers; raw: Buffer }>((resolve, reject) => {
          httpGet(server.url + path, { headers: { authorization: `Bearer ${lee}`, 'accept-encoding': acceptEncoding } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve({ headers: new Headers(res.headers as Record<string, string>), raw: Buffer.concat(chunks) }));
          }).on('error', reject);
        });
      const plain = await read('identity');
      assert.equal(plain.headers.get('content-encoding'), null);
      assert.equal(plain.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.match(plain.headers.get('vary') ?? '', /Accept-Encoding/i);
      const page = JSON.parse(plain.raw.toString('utf8'));
      assert.ok(page.items.length > 5, 'the demo practitioner has a page of history');
      for (const [accepted, encoding, decode] of [
        ['gzip, deflate, br, zstd', 'br', brotliDecompressSync],
        ['gzip', 'gzip', gunzipSync],
      ] as const) {
        const res = await read(accepted);
        assert.equal(res.headers.get('content-encoding'), encoding);
        assert.match(res.headers.get('vary') ?? '', /Accept-Encoding/i);
        assert.ok(res.raw.length * 3 < plain.raw.length, `${encoding}: ${res.raw.length} of ${plain.raw.length} bytes`);
        assert.deepEqual(JSON.parse(decode(res.raw).toString('utf8')), page);
        // Read again, unchanged: the same bytes.
        assert.deepEqual((await read(accepted)).raw, res.raw);
      }
      // A body too small to gain from it is sent as it is.
      const empty = await fetch(`${server.url}/api/v1/correspondence?patientId=${byName('Margaret Thompson').id}&channel=email`, {
        headers: { authorization: `Bearer ${lee}`, 'accept-encoding': 'br' },
      });
      assert.equal(empty.headers.get('content-encoding'), null);
      assert.ok((await empty.json()).items.length < 3);
    });

    test('an entry changed in any way after a page showed it is shown as it is now: pages reuse only unchanged renderings', async () => {
      const patient = byName('Grace Kim');
      const knex = server.db.knex;
      const url = `/api/v1/correspondence?patientId=${patient.id}&limit=50`;
      const entryOf = async (id: string) => ((await api(server, url, { token: lee })).body.items as Array<Entry & Record<string, unknown>>).find((e) => e.id === id);
      const [row] = await knex('correspondence')
        .insert({ tenant_id: knex('patients').select('tenant_id').where({ id: patient.id }), patient_id: patient.id, channel: 'sms', direction: 'outbound', status: 'sent', body: 'first words' })
        .returning('id');
      const id = (row as { id: string }).id;
      assert.equal((await entryOf(id))?.status, 'sent');
      assert.equal((await entryOf(id))?.status, 'sent', 'read twice, from its rendering');

      // Changed by any writer, in any column, without touching updated_at: the row's version still moves.
      await knex('correspondence').where({ id }).update({ status: 'failed', error_code: '30005' });
      const failed = await entryOf(id);
      assert.equal(failed?.status, 'failed');
      assert.equal(failed?.errorReason, ERROR_REASONS['30005']);
      // Two changes in one transaction: only the last is ever committed, and that is what shows.
      await knex.transaction(async (trx) => {
        await trx('correspondence').where({ id }).update({ body: 'edited once' });
        await trx('correspondence').where({ id }).update({ body: 'edited twice' });
      });
      assert.equal((await entryOf(id))?.body, 'edited twice');

      // The patient's name is part of every entry: renaming the patient shows on entries rendered before.
      await knex('patients').where({ id: patient.id }).update({ name: 'Grace Kim-Lee' });
      try {
        assert.equal((await entryOf(id))?.patientName, 'Grace Kim-Lee');
      } finally {
        await knex('patients').where({ id: patient.id }).update({ name: 'Grace Kim' });
      }
      assert.equal((await entryOf(id))?.patientName, 'Grace Kim');

      // Deleted: gone from the page, whatever was rendered of it before.
      await knex('correspondence').where({ id }).delete();
      assert.equal(await entryOf(id), undefined);
    });

    test('a page read again, unchanged, still offers the next page once an older entry makes one', async () => {
      const patient = byName('Grace Kim');
      const knex = server.db.knex;
      const all = (await api(server, `/api/v1/correspondence?patientId=${patient.id}&limit=200`, { token: lee })).body.items as Entry[];
      const url = `/api/v1/correspondence?patientId=${patient.id}&limit=${all.length}`;
      const first = await api(server, url, { token: lee });
      assert.equal(first.body.nextCursor, null, 'the whole history fits the page');
      assert.deepEqual(await api(server, url, { token: lee }).then((r) => r.body), first.body, 'read again, the same');

      // Older than everything shown: the page's entries are unchanged, but now there is a next page.
      const [row] = await knex('correspondence')
        .insert({
          tenant_id: knex('patients').select('tenant_id').where({ id: patient.id }),
          patient_id: patient.id,
          channel: 'email',
          direction: 'outbound',
          status: 'sent',
          body: 'long ago',
          created_at: new Date(Date.parse(all.at(-1)!.createdAt) - 86_400_000),
        })
        .returning('id');
      try {
        const again = await api(server, url, { token: lee });
        assert.deepEqual(again.body.items, first.body.items);
        assert.equal(typeof again.body.nextCursor, 'string', 'a next page is offered');
        const next = await api(server, `${url}&cursor=${encodeURIComponent(again.body.nextCursor)}`, { token: lee });
        assert.deepEqual(next.body.items.map((e: Entry) => e.id), [(row as { id: string }).id]);
      } finally {
        await knex('correspondence').where({ id: (row as { id: string }).id }).delete();
      }
      assert.equal((await api(server, url, { token: lee })).body.nextCursor, null, 'and none once it is gone');
    });

    test('a patient\'s page read again is answered from the patient\'s history version, its entries unread, until any of them is written, the patient renamed or the grant revoked', async () => {
      const knex = server.db.knex;
      const tenant = await knex('tenants').where({ slug: 'demo-clinic' }).first();
      const leeId = (await knex('practitioners').where({ tenant_id: tenant.id, external_id: 'dr-lee' }).first()).id as string;
      const [aiko, lucas] = [byName('Aiko Tanaka'), byName('Lucas Silva')];
      const repo = new CorrespondenceRepository(knex);
      const audit = { actorType: 'practitioner', actorId: leeId, action: 'correspondence.list', requestId: 'versioned', ip: null };
      // What the statement answered each read: whether the page was read again (a listing) or taken as unchanged.
      const answered: Array<{ unchanged?: boolean; listing?: string | null }> = [];
      const onResponse = (response: { rows?: Array<{ unchanged?: boolean; listing?: string | null }> }) => {
        if (response.rows?.[0] && 'unchanged' in response.rows[0]) answered.push(response.rows[0]);
      };
      const read = async (patientId = aiko.id) => {
        answered.length = 0;
        const page = await repo.history({ tenantId: tenant.id, practitionerId: leeId, patientId, limit: 50 }, audit);
        return { ids: (JSON.parse(page.items.toString()) as Entry[]).map((e) => e.id), unchanged: answered[0]?.unchanged ?? null, listed: typeof answered[0]?.listing === 'string' };
      };
      const version = async (patientId: string) => Number((await knex('history_versions').where({ patient_id: patientId }).first())?.version ?? 0);
      const insert = (patientId: string, body: string) =>
        knex('correspondence')
          .insert({ tenant_id: tenant.id, patient_id: patientId, channel: 'email', direction: 'outbound', status: 'sent', body })
          .returning('id')
          .then(([row]) => (row as { id: string }).id);

      knex.on('query-response', onResponse);
      const made: string[] = [];
      try {
        const first = await read();
        assert.ok(first.ids.length > 0, 'Aiko has history');
        const again = await read();
        assert.deepEqual(again, { ids: first.ids, unchanged: true, listed: false }, 'read again: the version alone, no entry read');

        // Another patient's entry moves only that patient's version.
        const [aikoBefore, lucasBefore] = [await version(aiko.id), await version(lucas.id)];
        made.push(await insert(lucas.id, 'for Lucas'));
        assert.deepEqual([await version(aiko.id), await version(lucas.id)], [aikoBefore, lucasBefore + 1]);
        assert.equal((await read()).unchanged, true);

        // An entry written by anyone (here SQL, not this server) is read on the next read, then kept again.
        made.push(await insert(aiko.id, 'for Aiko'));
        const written = await read();
        assert.deepEqual(written, { ids: [made[1]!, ...first.ids.slice(0, 49)], unchanged: false, listed: true });
        assert.equal((await read()).unchanged, true);

        // One statement writing entries of two patients moves each version once; an entry moved between patients moves both.
        const [a, l] = [await version(aiko.id), await version(lucas.id)];
        await knex('correspondence').whereIn('id', made).update({ notes: 'seen' });
        assert.deepEqual([await version(aiko.id), await version(lucas.id)], [a + 1, l + 1]);
        await knex('correspondence').where({ id: made[0] }).update({ patient_id: aiko.id });
        assert.deepEqual([await version(aiko.id), await version(lucas.id)], [a + 2, l + 2]);
        assert.deepEqual((await read()).ids.slice(0, 2).sort(), [...made].sort(), 'the entry moved to Aiko shows on her page');
        assert.ok(!(await read(lucas.id)).ids.includes(made[0]!), 'and no longer on Lucas\'s');
        await knex('correspondence').whereIn('id', made).delete();
        assert.deepEqual((await read()).ids, first.ids, 'deleted: gone');

        // A rename is not an entry written: the name is checked with the version.
        assert.equal((await read()).unchanged, true);
        await knex('patients').where({ id: aiko.id }).update({ name: 'Aiko Tanaka-Sato' });
        try {
          const renamed = await read();
          assert.equal(renamed.unchanged, false);
          const page = await repo.history({ tenantId: tenant.id, practitionerId: leeId, patientId: aiko.id, limit: 50 }, audit);
          assert.equal((JSON.parse(page.items.toString()) as Array<{ patientName: string }>)[0]!.patientName, 'Aiko Tanaka-Sato');
        } finally {
          await knex('patients').where({ id: aiko.id }).update({ name: 'Aiko Tanaka' });
        }

        assert.equal((await read()).unchanged, false, 'named back: read again');

        // A revoked grant is checked on every read: the kept page is not answered.
        assert.equal((await read()).unchanged, true);
        const grant = await knex('patient_access').where({ practitioner_id: leeId, patient_id: aiko.id }).first();
        await knex('patient_access').where({ practitioner_id: leeId, patient_id: aiko.id }).delete();
        try {
          assert.deepEqual(await read(), { ids: [], unchanged: false, listed: true });
        } finally {
          await knex('patient_access').insert(grant);
        }
        assert.deepEqual((await read()).ids, first.ids);
      } finally {
        knex.off('query-response', onResponse);
        await knex('correspondence').whereIn('id', made).delete();
      }
    });

    test('writers of one patient\'s entries at once each move the version: none is lost, none deadlocks', async () => {
      const knex = server.db.knex;
      const tenant = await knex('tenants').where({ slug: 'demo-clinic' }).first();
      const ids = [byName('Margaret Thompson').id, byName('Grace Kim').id];
      const versions = async () => Promise.all(ids.map(async (id) => Number((await knex('history_versions').where({ patient_id: id }).first())?.version ?? 0)));
      const before = await versions();
      // Twenty statements at once, each writing entries of both patients, half listing them in the other order.
      const made = await Promise.all(
        Array.from({ length: 20 }, (_, n) =>
          knex('correspondence')
            .insert((n % 2 ? [...ids].reverse() : ids).map((patientId) => ({ tenant_id: tenant.id, patient_id: patientId, channel: 'email', direction: 'outbound', status: 'sent', body: `at once ${n}` })))
            .returning('id'),
        ),
      );
      try {
        assert.deepEqual(await versions(), before.map((v) => v + 20));
      } finally {
        await knex('correspondence').whereIn('id', made.flat().map((row) => (row as { id: string }).id)).delete();
      }
    });

    test('history reads made together share one statement, each with its own page and audit rows; one the database refuses fails alone', async () => {
      const knex = server.db.knex;
      const tenant = await knex('tenants').where({ slug: 'demo-clinic' }).first();
      const practitioner = async (externalId: string) => (await knex('practitioners').where({ tenant_id: tenant.id, external_id: externalId }).first()).id as string;
      const [leeId, patelId] = await Promise.all([practitioner('dr-lee'), practitioner('dr-patel')]);
      const patelSees = new Set(((await api(server, '/api/v1/patients', { token: patel })).body.items as Array<{ id: string }>).map((p) => p.id));
      const hidden = patients.find((p) => !patelSees.has(p.id))!;
      const reads: HistoryQuery[] = [
        { tenantId: tenant.id, practitionerId: leeId, patientId: byName('Grace Kim').id, limit: 50 },
        { tenantId: tenant.id, practitionerId: leeId, patientId: byName('Margaret Thompson').id, limit: 3 },
        { tenantId: tenant.id, practitionerId: leeId, patientId: byName('Margaret Thompson').id, limit: 50 },
        { tenantId: tenant.id, practitionerId: patelId, patientId: hidden.id, limit: 50 },
      ];
      const audit = (requestId: string) => ({ actorType: 'practitioner', actorId: 'batch-test', action: 'correspondence.list', requestId, ip: null });
      const pageOf = (page: HistoryPage) => ({ items: JSON.parse(page.items.toString()), found: page.found, cursor: [page.last_cursor_at, page.last_id] });
      // Each alone, from a repository of its own (nothing kept between them).
      const alone = [];
      for (const read of reads) alone.push(pageOf(await new CorrespondenceRepository(knex).history(read, audit('alone'))));
      assert.ok(alone[0]!.items.length > 0 && alone[1]!.items.length === 3 && alone[2]!.items.length > 3, 'the demo patients have history');
      assert.equal(alone[3]!.found, 0, 'a patient the practitioner may not see has no history for them');

      const repo = new CorrespondenceRepository(knex);
      const statements: string[] = [];
      const onQuery = (q: { sql: string }) => statements.push(q.sql);
      knex.on('query', onQuery);
      const together = await Promise.all(reads.map((read, i) => repo.history(read, audit(`together-${i}`)))).finally(() => knex.off('query', onQuery));
      assert.deepEqual(together.map(pageOf), alone);
      // Read again unchanged: answered from its listing with the very answer kept, nothing rendered or joined anew.
      assert.equal((await repo.history(reads[0]!, audit('again'))).items, together[0]!.items);
      // Two page sizes, so two statements (a page size is part of a statement); one commit each.
      assert.equal(statements.length, 2, statements.join('\n'));
      const audited = await knex('audit_log').where('request_id', 'like', 'together-%').orderBy('request_id').select('request_id', 'patient_id');
      assert.deepEqual(
        audited.map((a: { request_id: string; patient_id: string }) => [a.request_id, a.patient_id]),
        reads.slice(0, 3).map((read, i) => [`together-${i}`, read.patientId]),
        'each page read is audited once, against its own patient; the empty one not at all',
      );

      // The database refuses one read of a batch (a malformed id the service would have turned away): the other still answers.
      const fresh = new CorrespondenceRepository(knex);
      const [good, refused] = await Promise.allSettled([
        fresh.history(reads[0]!, audit('refused-0')),
        fresh.history({ ...reads[0]!, patientId: 'not-a-uuid' }, audit('refused-1')),
      ]);
      assert.equal(good.status, 'fulfilled');
      assert.deepEqual(pageOf((good as PromiseFulfilledResult<HistoryPage>).value), alone[0]);
      assert.equal(refused.status, 'rejected');
      assert.deepEqual(await knex('audit_log').where('request_id', 'like', 'refused-%').pluck('request_id'), ['refused-0']);
    });

    test('an entry carries its patient\'s tenant, and goes with its patient or its tenant', async () => {
      const knex = server.db.knex;
      const [tenant] = await knex('tenants').insert({ slug: `fk-${Date.now()}`, name: 'Key Clinic' }).returning('id');
      const tenantId = (tenant as { id: string }).id;
      const [patient] = await knex('patients').insert({ tenant_id: tenantId, external_id: 'FK-1', name: 'Key Patient' }).returning('id');
      const patientId = (patient as { id: string }).id;
      const entry = { patient_id: patientId, channel: 'email', direction: 'outbound', status: 'sent', body: 'keyed' };
      const demo = (await knex('tenants').where({ slug: 'demo-clinic' }).first()).id as string;
      // Another clinic's id on this clinic's patient is refused, whoever writes it.
      await assert.rejects(knex('correspondence').insert({ ...entry, tenant_id: demo }), (error: { code?: string }) => error.code === '23503');

      const [kept] = await knex('correspondence').insert({ ...entry, tenant_id: tenantId }).returning('id');
      await knex('patients').where({ id: patientId }).delete();
      assert.equal(await knex('correspondence').where({ id: (kept as { id: string }).id }).first(), undefined, 'gone with its patient');

      const [other] = await knex('patients').insert({ tenant_id: tenantId, external_id: 'FK-2', name: 'Key Patient Two' }).returning('id');
      const [gone] = await knex('correspondence').insert({ ...entry, patient_id: (other as { id: string }).id, tenant_id: tenantId }).returning('id');
      await knex('tenants').where({ id: tenantId }).delete();
      assert.equal(await knex('correspondence').where({ id: (gone as { id: string }).id }).first(), undefined, 'gone with its tenant');
    });

    test('writing an entry does not lock its tenant\'s row (which every write of the clinic would then queue on)', async (t) => {
      if (kind !== 'postgres') return t.skip('PGlite has one connection: no second writer to hold the lock');
      const knex = server.db.knex;
      const patient = byName('Grace Kim');
      const tenantId = (await knex('patients').where({ id: patient.id }).first()).tenant_id as string;
      // Another session holds the tenant's row as an update of it would (FOR UPDATE conflicts with the KEY SHARE a check takes).
      const holder = await knex.transaction();
      try {
        await holder.raw('SELECT 1 FROM tenants WHERE id = ? FOR UPDATE', [tenantId]);
        const id = await knex.transaction(async (trx) => {
          await trx.raw("SET LOCAL lock_timeout = '2s'");
          const [row] = await trx('correspondence')
            .insert({ tenant_id: tenantId, patient_id: patient.id, channel: 'email', direction: 'outbound', status: 'sent', body: 'while the clinic is locked' })
            .returning('id');
          return (row as { id: string }).id;
        });
        await knex('correspondence').where({ id }).delete();
      } finally {
        await holder.rollback();
      }
    });

    test('keyset pages have no gaps or repeats while rows are being inserted', async () => {
      const patient = byName('Aiko Tanaka');
      // Enough history with identical timestamps to exercise the id tie-break.
      const at = new Date(Date.now() - 3600_000).toISOString();
      for (let i = 0; i < 30; i += 1) {
        const res = await api(server, '/api/v1/admin/correspondence', {
          token: server.keys.demoClinicApiKey,
          body: { patient: patient.externalId, channel: 'email', body: `old ${i}`, occurredAt: at },
        });
        assert.equal(res.status, 201);
      }
      const before = (await api(server, `/api/v1/correspondence?patientId=${patient.id}&limit=200`, { token: lee })).body.items as Entry[];
      const seen: string[] = [];
      let cursor: string | null = null;
      let inserted = 0;
      do {
        const res: { status: number; body: { items: Entry[]; nextCursor: string | null } } = await api(
          server,
          `/api/v1/correspondence?patientId=${patient.id}&limit=4${cursor ? `&cursor=${cursor}` : ''}`,
          { token: lee },
        );
        assert.equal(res.status, 200);
        seen.push(...res.body.items.map((e) => e.id));
        cursor = res.body.nextCursor;
        // New entries land at the top while we page down: they must not disturb the pages.
        await api(server, '/api/v1/admin/correspondence', {
          token: server.keys.demoClinicApiKey,
          body: { patient: patient.externalId, channel: 'sms', direction: 'inbound', body: `new ${inserted++}` },
        });
      } while (cursor);
      assert.equal(new Set(seen).size, seen.length, 'no repeats');
      assert.deepEqual(seen, before.map((e) => e.id), 'no gaps, same order');
    });
  });
}
