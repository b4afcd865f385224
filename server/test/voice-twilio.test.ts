import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { twilioSignature } from '../src/providers/twilio-signature.js';
import { HOLD_MUSIC_URL } from '../src/providers/voice-twilio.js';
import { api, databases, startServer, TEST_TWILIO, twilioEnv, waitUntil, type TestServer } from './helpers.js';
import { startVoiceMock } from './voice-mock.js';

const API_KEY = { sid: 'SK' + '5'.repeat(32), secret: 'voice-api-key-secret-0123456789' };
const TWIML_APP_SID = 'AP' + '7'.repeat(32);

interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

/**
 * A strict little XML reader for TwiML: one root, every tag closed in order,
 * attributes quoted, only the five predefined entities. Throws on anything
 * malformed, so a pass means the document is well-formed.
 */
function parseXml(xml: string): XmlNode {
  const body = xml.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>/, '');
  const root: XmlNode = { name: '#document', attrs: {}, children: [], text: '' };
  const stack = [root];
  const decode = (text: string) => {
    if (/&(?!(amp|lt|gt|quot|apos);)/.test(text)) throw new Error(`bad entity in ${text}`);
    return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
  };
  const token = /<(\/?)([A-Za-z][\w-]*)((?:\s+[A-Za-z][\w-]*="[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  let index = 0;
  while (index < body.length) {
    token.lastIndex = index;
    const m = token.exec(body);
    if (!m) throw new Error(`malformed XML at ${index}: ${body.slice(index, index + 30)}`);
    index = token.lastIndex;
    if (m[5] !== undefined) {
      stack.at(-1)!.text += decode(m[5]);
      continue;
    }
    if (m[1]) {
      const open = stack.pop()!;
      if (open.name !== m[2]) throw new Error(`</${m[2]}> closes <${open.name}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of m[3]!.matchAll(/([A-Za-z][\w-]*)="([^"]*)"/g)) {
      if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]}`);
      attrs[a[1]!] = decode(a[2]!);
    }
    const node: XmlNode = { name: m[2]!, attrs, children: [], text: '' };
    stack.at(-1)!.children.push(node);
    if (!m[4]) stack.push(node);
  }
  if (stack.length !== 1 || root.children.length !== 1) throw new Error('unclosed tags or several roots');
  return root.children[0]!;
}

function decodeToken(jwt: string, secret: string) {
  const [header, payload, signature] = jwt.split('.');
  assert.equal(signature, createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url'), 'signed with the API key secret');
  return JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, any>;
}

for (const kind of databases()) {
  describe(`voice calls on Twilio, against a mock of its REST API (${kind})`, () => {
    let server: TestServer;
    let mock: Awaited<ReturnType<typeof startVoiceMock>>;
    let lee: string;
    let patel: string;
    let other: string;
    let patients: Array<{ id: string; name: string; phone: string | null; externalId: string }>;
    before(async () => {
      mock = await startVoiceMock();
      server = await startServer(kind, {
        env: { ...twilioEnv(mock.url), TWILIO_API_KEY_SID: API_KEY.sid, TWILIO_API_KEY_SECRET: API_KEY.secret, TWILIO_TWIML_APP_SID: TWIML_APP_SID },
      });
      [lee, patel, other] = await Promise.all([server.token('dr-lee'), server.token('dr-patel'), server.token('dr-other')]);
      patients = (await api(server, '/api/v1/patients', { token: lee })).body.items;
    });
    after(async () => {
      await server.close();
      await mock.close();
    });

    const byName = (name: string) => patients.find((p) => p.name === name)!;
    const start = async (name = 'Margaret Thompson') => {
      const res = await api(server, `/api/v1/patients/${byName(name).id}/calls`, { token: lee, method: 'POST' });
      assert.equal(res.status, 201);
      return res.body as { id: string; correspondenceId: string; token: string; identity: string };
    };
    const call = async (id: string) => (await server.db.knex('calls').where({ id }).first()) as Record<string, any>;
    const entry = async (id: string) => (await server.db.knex('correspondence').where({ id }).first()) as Record<string, any>;

    /** Posts a webhook as Twilio would: form-encoded, signed over BASE_URL + path + query. */
    const webhook = async (path: string, params: Record<string, string | string[]>, options: { signature?: string } = {}) => {
      const form = new URLSearchParams();
      for (const [key, value] of Object.entries(params)) for (const v of [value].flat()) form.append(key, v);
      const signature = options.signature ?? twilioSignature(TEST_TWILIO.authToken, TEST_TWILIO.baseUrl + path, params);
      const res = await fetch(server.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        body: form.toString(),
      });
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    };
    const voiceWebhook = (started: { id: string; identity: string }, extra: Record<string, string> = {}) =>
      webhook('/webhooks/twilio/voice', {
        AccountSid: TEST_TWILIO.accountSid,
        ApiVersion: '2010-04-01',
        ApplicationSid: TWIML_APP_SID,
        CallSid: 'CA' + 'b'.repeat(32),
        CallStatus: 'ringing',
        Direction: 'inbound',
        From: `client:${started.identity}`,
        Caller: `client:${started.identity}`,
        To: '',
        callId: started.id,
        ...extra,
      });
    const legStatus = (callId: string, callSid: string, status: string, extra: Record<string, string> = {}) =>
      webhook(`/webhooks/twilio/call-status?ref=${callId}&leg=patient`, {
        AccountSid: TEST_TWILIO.accountSid,
        CallSid: callSid,
        CallStatus: status,
        Direction: 'outbound-api',
        Timestamp: new Date().toUTCString(),
        CallbackSource: 'call-progress-events',
        ...extra,
      });
    const conferenceEvent = (callId: string, conferenceSid: string, event: string, extra: Record<string, string> = {}) =>
      webhook(`/webhooks/twilio/conference-status?ref=${callId}`, {
        AccountSid: TEST_TWILIO.accountSid,
        ConferenceSid: conferenceSid,
        FriendlyName: 'call-x',
        StatusCallbackEvent: event,
        Timestamp: new Date().toUTCString(),
        ...extra,
      });
    /** Starts a call and connects the browser's leg, as the Voice SDK and the TwiML app would. */
    const connected = async (name = 'Margaret Thompson') => {
      const started = await start(name);
      const from = mock.requests.length;
      const res = await voiceWebhook(started);
      assert.equal(res.status, 200);
      const row = await call(started.id);
      return { started, twiml: res.text, row, requests: mock.rest(from) };
    };

    test('the Voice token: API key signing, 1 hour, opaque identity, outgoing grant for the TwiML app with the call id', async () => {
      const session = await api(server, '/api/v1/session', { token: lee });
      assert.equal(session.body.provider, 'twilio');
      assert.ok(session.body.features.includes('voice'));
      const started = await start();
      const payload = decodeToken(started.token, API_KEY.secret);
      assert.equal(payload.iss, API_KEY.sid);
      assert.equal(payload.sub, TEST_TWILIO.accountSid);
      assert.equal(payload.exp - payload.iat, 3600);
      assert.equal(payload.grants.identity, started.identity);
      assert.match(started.identity, /^clinician-[0-9a-f]{16}$/);
      assert.deepEqual(payload.grants.voice, { outgoing: { application_sid: TWIML_APP_SID, params: { callId: started.id } } });
      const margaret = byName('Margaret Thompson');
      for (const phi of ['Margaret', 'Thompson', 'Lee', margaret.externalId, margaret.phone!]) {
        assert.ok(!JSON.stringify(payload).includes(phi), `no ${phi} in the token`);
      }
      // The demo EHR page lets @twilio/voice-sdk reach Twilio (and play its sounds), and nothing else.
      const csp = (await fetch(`${server.url}/`)).headers.get('content-security-policy')!;
      assert.match(csp, /connect-src 'self' https:\/\/\*\.twilio\.com wss:\/\/\*\.twilio\.com;/);
      assert.match(csp, /media-src 'self' blob: mediastream: https:\/\/\*\.twilio\.com https:\/\/\*\.twiliocdn\.com;/);
      assert.match(csp, /script-src 'self';/);
    });

    test('TwiML: well-formed, joins the call’s conference with opaque callbacks; the patient is dialled from the clinic number', async () => {
      const margaret = byName('Margaret Thompson');
      const { started, twiml, row, requests } = await connected();
      const doc = parseXml(twiml);
      assert.equal(doc.name, 'Response');
      assert.deepEqual(doc.children.map((c) => c.name), ['Dial'], 'no recording notice when the clinic does not record');
      const conference = doc.children[0]!.children[0]!;
      assert.equal(conference.name, 'Conference');
      assert.equal(conference.text, row.conference_name);
      assert.match(conference.text, /^call-[0-9a-f]{32}$/);
      assert.equal(conference.attrs.statusCallback, `${TEST_TWILIO.baseUrl}/webhooks/twilio/conference-status?ref=${started.id}`);
      assert.equal(conference.attrs.statusCallbackEvent, 'start end join leave hold');
      assert.equal(conference.attrs.endConferenceOnExit, 'true');
      assert.equal(conference.attrs.record, undefined);
      assert.equal(row.practitioner_call_sid, 'CA' + 'b'.repeat(32));

      assert.equal(requests.length, 1);
      const dial = requests[0]!;
      assert.equal(dial.method, 'POST');
      assert.equal(dial.path, `/2010-04-01/Accounts/${TEST_TWILIO.accountSid}/Conferences/${row.conference_name}/Participants.json`);
      assert.equal(dial.headers.authorization, `Basic ${Buffer.from(`${TEST_TWILIO.accountSid}:${TEST_TWILIO.authToken}`).toString('base64')}`);
      assert.deepEqual(Object.fromEntries([...new Set(dial.form.keys())].map((k) => [k, dial.form.getAll(k).join(' ')])), {
        From: '+61491571266',
        To: margaret.phone,
        Label: 'patient',
        Timeout: '30',
        StatusCallback: `${TEST_TWILIO.baseUrl}/webhooks/twilio/call-status?ref=${started.id}&leg=patient`,
        StatusCallbackMethod: 'POST',
        StatusCallbackEvent: 'initiated ringing answered completed',
        Beep: 'false',
        StartConferenceOnEnter: 'true',
        EndConferenceOnExit: 'true',
        EarlyMedia: 'false',
        ConferenceStatusCallback: `${TEST_TWILIO.baseUrl}/webhooks/twilio/conference-status?ref=${started.id}`,
        ConferenceStatusCallbackMethod: 'POST',
        ConferenceStatusCallbackEvent: 'start end join leave hold',
      });
      // Nothing that names the patient goes to Twilio except the number it must dial.
      const sent = [dial.path, ...[...dial.form].filter(([k]) => k !== 'To').map(([, v]) => v), twiml].join('\n');
      for (const phi of ['Margaret', 'Thompson', margaret.externalId, margaret.phone!, margaret.phone!.slice(1), margaret.id]) {
        assert.ok(!sent.includes(phi), `no ${phi} in names, URLs or TwiML`);
      }
      assert.match(row.conference_sid, /^CF/);
      assert.match(row.patient_call_sid, /^CA/);

      // The browser re-joining (a new connection) does not dial the patient again.
      const before = mock.requests.length;
      const again = await voiceWebhook(started, { CallSid: 'CA' + 'c'.repeat(32) });
      assert.equal(parseXml(again.text).children[0]!.children[0]!.text, row.conference_name);
      assert.equal(mock.requests.length, before);
    });

    test('TwiML refuses a call that is not this identity’s, unknown, over, or unsigned; nothing is dialled', async () => {
      const started = await start();
      const stranger = await start('Aiko Tanaka');
      const before = mock.requests.length;
      const hangup = (text: string) => {
        const doc = parseXml(text);
        assert.deepEqual(doc.children.map((c) => c.name), ['Hangup']);
      };
      hangup((await voiceWebhook({ id: started.id, identity: stranger.identity })).text);
      hangup((await voiceWebhook({ id: '00000000-0000-4000-8000-000000000000', identity: started.identity })).text);
      hangup((await voiceWebhook({ id: started.id, identity: started.identity }, { From: started.identity, Caller: started.identity })).text);
      const valid = await voiceWebhook(started);
      assert.equal(parseXml(valid.text).children[0]!.name, 'Dial');
      const forged = await webhook('/webhooks/twilio/voice', { From: `client:${stranger.identity}`, callId: stranger.id }, { signature: 'forged' });
      assert.equal(forged.status, 403);
      assert.equal(JSON.parse(forged.text).code, 'forbidden');
      assert.equal(mock.requests.length, before + 1, 'only the one valid webhook dialled');
      assert.equal((await call(stranger.id)).practitioner_call_sid, null);
      await api(server, `/api/v1/calls/${started.id}/end`, { token: lee, method: 'POST' });
      await api(server, `/api/v1/calls/${stranger.id}/end`, { token: lee, method: 'POST' });
      hangup((await voiceWebhook(stranger)).text);
    });

    test('status webhooks: ringing, answered, hold and resume, end; exact REST requests; duplicates and late ones change nothing', async () => {
      const { started, row } = await connected();
      const { conference_sid: cf, patient_call_sid: ca } = row;
      assert.equal((await legStatus(started.id, ca, 'initiated')).status, 204);
      await legStatus(started.id, ca, 'ringing');
      assert.equal((await call(started.id)).status, 'ringing');
      const early = await api(server, `/api/v1/calls/${started.id}/hold`, { token: lee, method: 'POST' });
      assert.equal(early.status, 409);
      await conferenceEvent(started.id, cf, 'conference-start', { SequenceNumber: '1' });
      const answered = new Date(Date.now() - 5000);
      await legStatus(started.id, ca, 'in-progress', { Timestamp: answered.toUTCString() });
      await conferenceEvent(started.id, cf, 'participant-join', { CallSid: ca, SequenceNumber: '2', Timestamp: answered.toUTCString() });
      assert.equal((await call(started.id)).status, 'in-progress');
      assert.equal((await entry(started.correspondenceId)).status, 'in-progress');

      let from = mock.requests.length;
      const held = await api(server, `/api/v1/calls/${started.id}/hold`, { token: lee, method: 'POST' });
      assert.equal(held.status, 200);
      assert.equal(held.body.onHold, true);
      const resumed = await api(server, `/api/v1/calls/${started.id}/resume`, { token: lee, method: 'POST' });
      assert.equal(resumed.body.onHold, false);
      const holdRequests = mock.rest(from);
      assert.deepEqual(
        holdRequests.map((r) => [r.method, r.path, Object.fromEntries(r.form)]),
        [
          ['POST', `/2010-04-01/Accounts/${TEST_TWILIO.accountSid}/Conferences/${cf}/Participants/${ca}.json`, { Hold: 'true', HoldUrl: HOLD_MUSIC_URL, HoldMethod: 'GET' }],
          ['POST', `/2010-04-01/Accounts/${TEST_TWILIO.accountSid}/Conferences/${cf}/Participants/${ca}.json`, { Hold: 'false' }],
        ],
      );
      // Twilio confirms both, late and out of order: the newer one (by sequence) wins.
      await conferenceEvent(started.id, cf, 'participant-unhold', { CallSid: ca, SequenceNumber: '4', Hold: 'false' });
      await conferenceEvent(started.id, cf, 'participant-hold', { CallSid: ca, SequenceNumber: '3', Hold: 'true' });
      assert.equal((await call(started.id)).on_hold, false);

      from = mock.requests.length;
      const ended = await api(server, `/api/v1/calls/${started.id}/end`, { token: lee, method: 'POST' });
      assert.equal(ended.body.status, 'completed');
      assert.ok(ended.body.durationSeconds >= 4, 'estimated from the answer until Twilio reports');
      assert.deepEqual(
        mock.rest(from).map((r) => [r.method, r.path, Object.fromEntries(r.form)]),
        [['POST', `/2010-04-01/Accounts/${TEST_TWILIO.accountSid}/Conferences/${cf}.json`, { Status: 'completed' }]],
      );
      const twice = await api(server, `/api/v1/calls/${started.id}/end`, { token: lee, method: 'POST' });
      assert.equal(twice.status, 200);
      assert.equal(mock.rest(from).length, 1, 'ending twice asks Twilio once');

      // Twilio's own report of the patient's leg refines the duration; repeats and late ones change nothing.
      await conferenceEvent(started.id, cf, 'conference-end', { SequenceNumber: '6', ReasonConferenceEnded: 'conference-ended-via-api' });
      await legStatus(started.id, ca, 'completed', { CallDuration: '42' });
      await legStatus(started.id, ca, 'completed', { CallDuration: '42' });
      await legStatus(started.id, ca, 'in-progress');
      await legStatus(started.id, ca, 'ringing');
      await legStatus(started.id, ca, 'busy');
      const done = await entry(started.correspondenceId);
      assert.equal(done.status, 'completed');
      assert.equal(done.duration_seconds, 42);
      assert.equal(done.provider_sid, ca);
      assert.equal(done.session.endedBy, 'practitioner');
      const statuses = await server.db.knex('correspondence_events').where({ correspondence_id: started.correspondenceId }).orderBy('id').pluck('status');
      assert.deepEqual(statuses, ['initiated', 'ringing', 'in-progress', 'completed']);
      const events = await server.db.knex('call_events').where({ call_id: started.id, kind: 'leg-status', name: 'completed' }).count({ n: '*' });
      assert.equal(Number(events[0]!.n), 1, 'a duplicate is recorded once');
      assert.equal((await call(started.id)).duration_seconds, 42);
    });

    test('out of order: completed before answered still logs the call with Twilio’s duration', async () => {
      const { started, row } = await connected('Lucas Silva');
      await legStatus(started.id, row.patient_call_sid, 'completed', { CallDuration: '17' });
      await legStatus(started.id, row.patient_call_sid, 'in-progress');
      await legStatus(started.id, row.patient_call_sid, 'ringing');
      const done = await entry(started.correspondenceId);
      assert.equal(done.status, 'completed');
      assert.equal(done.duration_seconds, 17);
      assert.equal(done.session.endedBy, 'patient');
    });

    test('report times that are unreadable, years away or out of the database’s range are taken as now, never a 500', async () => {
      const { started, row } = await connected('Lucas Silva');
      const before = Date.now();
      for (const Timestamp of ['+275760-09-13T00:00:00.000Z', '-271821-04-20T00:00:00.000Z', 'Mon, 01 Jan 2124 00:00:00 GMT', 'not a date']) {
        const res = await legStatus(started.id, row.patient_call_sid, 'ringing', { Timestamp });
        assert.equal(res.status, 204, Timestamp);
        const conf = await conferenceEvent(started.id, 'CF' + 'e'.repeat(32), 'conference-start', { Timestamp });
        assert.equal(conf.status, 204, Timestamp);
      }
      const events = await server.db.knex('call_events').where({ call_id: started.id }).pluck('occurred_at');
      assert.ok(events.length > 0);
      for (const at of events) assert.ok(Math.abs(new Date(at).getTime() - before) < 3600_000, `stored ${new Date(at).toISOString()}`);
    });

    test('busy, no-answer and failed (with Twilio’s error code); ending while it rings cancels the phone leg', async () => {
      for (const [status, extra] of [['busy', {}], ['no-answer', {}], ['failed', { ErrorCode: '32009' }]] as const) {
        const { started, row } = await connected('Fatima Rahman');
        await legStatus(started.id, row.patient_call_sid, 'ringing');
        await legStatus(started.id, row.patient_call_sid, status, extra);
        const done = await entry(started.correspondenceId);
        assert.equal(done.status, status);
        assert.equal(done.duration_seconds, null);
        if (status === 'failed') assert.equal(done.error_code, '32009');
      }
      const { started, row } = await connected('Fatima Rahman');
      await legStatus(started.id, row.patient_call_sid, 'ringing');
      const from = mock.requests.length;
      const ended = await api(server, `/api/v1/calls/${started.id}/end`, { token: lee, method: 'POST' });
      assert.equal(ended.body.status, 'canceled');
      assert.deepEqual(
        mock.rest(from).map((r) => [r.path, Object.fromEntries(r.form)]),
        [
          [`/2010-04-01/Accounts/${TEST_TWILIO.accountSid}/Calls/${row.patient_call_sid}.json`, { Status: 'canceled' }],
          [`/2010-04-01/Accounts/${TEST_TWILIO.accountSid}/Conferences/${row.conference_sid}.json`, { Status: 'completed' }],
        ],
      );
    });

    test('a number Twilio refuses: the browser hears why and hangs up; the entry fails with Twilio’s code', async () => {
      const started = await start('Aiko Tanaka');
      mock.failNext({ status: 400, code: 21211 });
      const res = await voiceWebhook(started);
      const doc = parseXml(res.text);
      assert.deepEqual(doc.children.map((c) => c.name), ['Say', 'Hangup']);
      const row = await entry(started.correspondenceId);
      assert.equal(row.status, 'failed');
      assert.equal(row.error_code, '21211');
    });

    test('recording: notice first for both sides, conference recorded, SID stored; streamed through Twilio with ranges, to who may see the patient', async () => {
      await server.db.knex('tenants').where({ slug: 'demo-clinic' }).update({ recording_enabled: true });
      try {
        const { started, twiml, row, requests } = await connected();
        const doc = parseXml(twiml);
        assert.deepEqual(doc.children.map((c) => c.name), ['Say', 'Dial']);
        assert.match(doc.children[0]!.text, /Demo Clinic records this call/);
        const conference = doc.children[1]!.children[0]!;
        assert.equal(conference.attrs.record, 'record-from-start');
        assert.equal(conference.attrs.recordingStatusCallback, `${TEST_TWILIO.baseUrl}/webhooks/twilio/recording-status?ref=${started.id}`);
        const dial = requests[0]!.form;
        assert.equal(dial.get('ConferenceRecord'), 'record-from-start');
        assert.equal(dial.get('ConferenceRecordingStatusCallback'), `${TEST_TWILIO.baseUrl}/webhooks/twilio/recording-status?ref=${started.id}`);

        // The patient hears the notice as they join.
        const from = mock.requests.length;
        await legStatus(started.id, row.patient_call_sid, 'in-progress');
        await conferenceEvent(started.id, row.conference_sid, 'participant-join', { CallSid: row.patient_call_sid, SequenceNumber: '2' });
        const announce = mock.rest(from);
        assert.deepEqual(
          announce.map((r) => [r.path, Object.fromEntries(r.form)]),
          [
            [
              `/2010-04-01/Accounts/${TEST_TWILIO.accountSid}/Conferences/${row.conference_sid}/Participants/${row.patient_call_sid}.json`,
              { AnnounceUrl: `${TEST_TWILIO.baseUrl}/webhooks/twilio/recording-notice?ref=${started.id}`, AnnounceMethod: 'POST' },
            ],
          ],
        );
        const notice = await webhook(`/webhooks/twilio/recording-notice?ref=${started.id}`, { CallSid: row.patient_call_sid });
        const noticeDoc = parseXml(notice.text);
        assert.deepEqual(noticeDoc.children.map((c) => c.name), ['Say']);
        assert.match(noticeDoc.children[0]!.text, /recorded/);

        await legStatus(started.id, row.patient_call_sid, 'completed', { CallDuration: '12' });
        const recordingSid = 'RE' + '9'.repeat(32);
        const recording = {
          AccountSid: TEST_TWILIO.accountSid,
          ConferenceSid: row.conference_sid,
          RecordingSid: recordingSid,
          RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${TEST_TWILIO.accountSid}/Recordings/${recordingSid}`,
          RecordingStatus: 'completed',
          RecordingDuration: '11',
          RecordingChannels: '1',
          RecordingSource: 'Conference',
        };
        assert.equal((await webhook(`/webhooks/twilio/recording-status?ref=${started.id}`, recording)).status, 204);
        await webhook(`/webhooks/twilio/recording-status?ref=${started.id}`, recording);
        const done = await entry(started.correspondenceId);
        assert.equal(done.recording_sid, recordingSid);
        assert.equal(done.session.recordingDurationSeconds, 11);
        assert.ok(!JSON.stringify(done).includes('https://'), 'never a raw Twilio URL');

        const media = Buffer.from('ID3 fake mp3 bytes for the test');
        mock.recordings.set(recordingSid, media);
        const whole = await fetch(`${server.url}/api/v1/calls/${started.id}/recording`, { headers: { authorization: `Bearer ${lee}` } });
        assert.equal(whole.status, 200);
        assert.equal(whole.headers.get('content-type'), 'audio/mpeg');
        assert.deepEqual(Buffer.from(await whole.arrayBuffer()), media);
        const part = await fetch(`${server.url}/api/v1/calls/${started.id}/recording`, { headers: { authorization: `Bearer ${lee}`, range: 'bytes=4-7' } });
        assert.equal(part.status, 206);
        assert.equal(part.headers.get('content-range'), `bytes 4-7/${media.length}`);
        assert.equal(Buffer.from(await part.arrayBuffer()).toString(), 'fake');
        const fetched = mock.requests.filter((r) => r.path.endsWith(`${recordingSid}.mp3`));
        assert.equal(fetched.length, 2);
        assert.equal(fetched[1]!.headers.range, 'bytes=4-7');
        assert.equal(fetched[0]!.headers.authorization, `Basic ${Buffer.from(`${TEST_TWILIO.accountSid}:${TEST_TWILIO.authToken}`).toString('base64')}`);

        for (const token of [other]) {
          assert.equal((await fetch(`${server.url}/api/v1/calls/${started.id}/recording`, { headers: { authorization: `Bearer ${token}` } })).status, 404);
        }
        const james = await start("James O'Connor");
        await api(server, `/api/v1/calls/${james.id}/end`, { token: lee, method: 'POST' });
        assert.equal((await fetch(`${server.url}/api/v1/calls/${james.id}/recording`, { headers: { authorization: `Bearer ${patel}` } })).status, 404, 'a patient dr-patel may not see');
        assert.equal(mock.requests.filter((r) => r.path.endsWith('.mp3')).length, 2, 'refused requests never reach Twilio');
      } finally {
        await server.db.knex('tenants').where({ slug: 'demo-clinic' }).update({ recording_enabled: false });
      }
    });

    test('voice webhooks with a bad signature are 403 and change nothing', async () => {
      const { started, row } = await connected('Margaret Thompson');
      const eventsBefore = Number((await server.db.knex('call_events').where({ call_id: started.id }).count({ n: '*' }))[0]!.n);
      for (const [path, params] of [
        [`/webhooks/twilio/call-status?ref=${started.id}&leg=patient`, { CallSid: row.patient_call_sid, CallStatus: 'completed', CallDuration: '9' }],
        [`/webhooks/twilio/conference-status?ref=${started.id}`, { ConferenceSid: row.conference_sid, StatusCallbackEvent: 'conference-end' }],
        [`/webhooks/twilio/recording-status?ref=${started.id}`, { RecordingSid: 'RE' + '1'.repeat(32), RecordingStatus: 'completed' }],
        [`/webhooks/twilio/recording-notice?ref=${started.id}`, {}],
      ] as const) {
        const res = await webhook(path, params, { signature: twilioSignature(TEST_TWILIO.authToken, server.url + path, params) });
        assert.equal(res.status, 403, path);
      }
      assert.equal(Number((await server.db.knex('call_events').where({ call_id: started.id }).count({ n: '*' }))[0]!.n), eventsBefore);
      assert.equal((await call(started.id)).status, 'initiated');
      await api(server, `/api/v1/calls/${started.id}/end`, { token: lee, method: 'POST' });
    });

    test('without a TwiML app, calls are not offered', async () => {
      const bare = await startServer(kind, { env: twilioEnv(mock.url) });
      try {
        const token = await bare.token('dr-lee');
        assert.ok(!(await api(bare, '/api/v1/session', { token })).body.features.includes('voice'));
        const someone = (await api(bare, '/api/v1/patients', { token })).body.items[0];
        const res = await api(bare, `/api/v1/patients/${someone.id}/calls`, { token, method: 'POST' });
        assert.equal(res.status, 503);
        assert.equal(res.body.code, 'voice_unavailable');
      } finally {
        await bare.close();
      }
    });
  });
}
