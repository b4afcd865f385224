import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { parsePhoneNumber } from 'libphonenumber-js';
import { twilioSignature } from '../src/providers/twilio-signature.js';
import { HOLD_MUSIC_URL } from '../src/providers/voice-twilio.js';
import { api, databases, FAST_OUTBOX_ENV, startServer, startTwilioMock, TEST_TWILIO, twilioEnv, waitUntil, type MockRequest, type TestServer } from './helpers.js';
import { startVoiceMock } from './voice-mock.js';

const API_KEY = { sid: 'SK' + '6'.repeat(32), secret: 'phi-api-key-secret-0123456789' };
const TWIML_APP_SID = 'AP' + '8'.repeat(32);

/** A minimal Twilio Video Rooms stand-in: create, and complete by SID. */
function roomsHandler(requests: MockRequest[]) {
  let counter = 0;
  return (method: string, url: URL, form: URLSearchParams, headers: MockRequest['headers']) => {
    requests.push({ method, path: url.pathname, query: url.searchParams, form, headers });
    const resource = (sid: string, status: string) => ({
      sid,
      account_sid: TEST_TWILIO.accountSid,
      unique_name: form.get('UniqueName'),
      status,
      type: 'group',
      max_participants: 2,
      url: `https://video.twilio.com/v1/Rooms/${sid}`,
    });
    if (method === 'POST' && url.pathname === '/v1/Rooms') return { status: 201, body: resource(`RM${(++counter).toString(16).padStart(32, '0')}`, 'in-progress') };
    const one = /^\/v1\/Rooms\/(RM[0-9a-f]{32})$/.exec(url.pathname);
    if (method === 'POST' && one) return { status: 200, body: resource(one[1]!, form.get('Status') ?? 'in-progress') };
    return { status: 404, body: { code: 20404, message: 'not found', status: 404 } };
  };
}

/**
 * PHI scan: an SMS, a recorded call (start, hold, resume, end, playback), a
 * video visit (start, link, join, end) and a HELP reply run against stand-ins
 * for Twilio's REST APIs. Everything Twilio would receive — every request's
 * path, query, form body and headers, the TwiML we answer its webhooks with —
 * and every access token minted is scanned: no patient name, phone number (in
 * any format), MRN, email or id may appear, except the number a message or a
 * call must be delivered to (`To`) and the text the practitioner typed (`Body`
 * of their own message). Status-callback URLs are opaque ids.
 */
for (const kind of databases()) {
  describe(`PHI never reaches Twilio (${kind})`, () => {
    let server: TestServer;
    let sms: Awaited<ReturnType<typeof startTwilioMock>>;
    let voice: Awaited<ReturnType<typeof startVoiceMock>>;
    let proxy: Server;
    const roomRequests: MockRequest[] = [];
    let lee: string;
    let lucas: { id: string; name: string; phone: string; phoneDisplay: string; externalId: string; email: string };
    /** What left for Twilio: requests (all three mocks), TwiML answers, access tokens. */
    const twiml: Array<{ path: string; xml: string }> = [];
    const tokens: Array<{ what: string; jwt: string }> = [];
    /** The Body of the practitioner's own SMS: theirs to write, the one thing exempt. */
    const typed = 'See you Tuesday at 10 for your check-up';

    before(async () => {
      sms = await startTwilioMock();
      voice = await startVoiceMock();
      const rooms = roomsHandler(roomRequests);
      // TWILIO_API_URL is one origin for every Twilio API: Rooms here, Messages and voice to their mocks.
      proxy = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const url = new URL(req.url!, 'http://proxy');
          if (url.pathname.startsWith('/v1/Rooms')) {
            const answer = rooms(req.method!, url, new URLSearchParams(Buffer.concat(chunks).toString()), req.headers);
            res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
            return;
          }
          const target = /\/Messages(\.json|\/)/.test(url.pathname) ? sms.url : voice.url;
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(req.headers)) {
            if (typeof value === 'string' && !['host', 'connection', 'content-length'].includes(name)) headers[name] = value;
          }
          fetch(target + req.url, { method: req.method, headers, body: req.method === 'GET' ? undefined : Buffer.concat(chunks) }).then(
            async (answer) => {
              const out: Record<string, string> = {};
              answer.headers.forEach((value, name) => {
                if (!['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(name)) out[name] = value;
              });
              res.writeHead(answer.status, out).end(Buffer.from(await answer.arrayBuffer()));
            },
            () => res.writeHead(502).end(),
          );
        });
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      server = await startServer(kind, {
        env: {
          ...FAST_OUTBOX_ENV,
          ...twilioEnv(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`),
          TWILIO_API_KEY_SID: API_KEY.sid,
          TWILIO_API_KEY_SECRET: API_KEY.secret,
          TWILIO_TWIML_APP_SID: TWIML_APP_SID,
        },
      });
      lee = await server.token('dr-lee');
      const found = (await api(server, '/api/v1/patients?q=Lucas', { token: lee })).body.items[0];
      lucas = (await api(server, `/api/v1/patients/${found.id}`, { token: lee })).body;
    });
    after(async () => {
      await server?.close();
      await sms?.close();
      await voice?.close();
      proxy?.closeAllConnections();
      await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
    });

    /** Posts a webhook as Twilio would (signed over BASE_URL + path) and keeps what we answered Twilio with. */
    const webhook = async (path: string, params: Record<string, string>) => {
      const res = await fetch(server.url + path, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature(TEST_TWILIO.authToken, TEST_TWILIO.baseUrl + path, params),
        },
        body: new URLSearchParams(params).toString(),
      });
      const text = await res.text();
      assert.ok(res.status < 300, `${path}: ${res.status} ${text}`);
      if (text.startsWith('<?xml')) twiml.push({ path, xml: text });
      return text;
    };
    const all = () => [...sms.requests, ...voice.requests, ...roomRequests];

    test('an SMS, a recorded call, a video visit and a HELP reply', async () => {
      // SMS.
      const sent = await api(server, `/api/v1/patients/${lucas.id}/messages`, { token: lee, body: { body: typed } });
      assert.equal(sent.status, 202);
      await waitUntil(() => sms.creates().length === 1, 5000, 'the Messages create');

      // A recorded call: start, the browser's leg, answered, hold, resume, end, the recording.
      await server.db.knex('tenants').where({ slug: 'demo-clinic' }).update({ recording_enabled: true });
      try {
        const call = (await api(server, `/api/v1/patients/${lucas.id}/calls`, { token: lee, method: 'POST' })).body;
        tokens.push({ what: 'voice token', jwt: call.token });
        await webhook('/webhooks/twilio/voice', {
          AccountSid: TEST_TWILIO.accountSid,
          ApplicationSid: TWIML_APP_SID,
          CallSid: 'CA' + 'b'.repeat(32),
          CallStatus: 'ringing',
          Direction: 'inbound',
          From: `client:${call.identity}`,
          Caller: `client:${call.identity}`,
          To: '',
          callId: call.id,
        });
        const row = await server.db.knex('calls').where({ id: call.id }).first();
        const status = (status: string, extra: Record<string, string> = {}) =>
          webhook(`/webhooks/twilio/call-status?ref=${call.id}&leg=patient`, { AccountSid: TEST_TWILIO.accountSid, CallSid: row.patient_call_sid, CallStatus: status, ...extra });
        await status('ringing');
        await status('in-progress');
        await webhook(`/webhooks/twilio/conference-status?ref=${call.id}`, {
          AccountSid: TEST_TWILIO.accountSid,
          ConferenceSid: row.conference_sid,
          StatusCallbackEvent: 'participant-join',
          CallSid: row.patient_call_sid,
          SequenceNumber: '2',
        });
        await webhook(`/webhooks/twilio/recording-notice?ref=${call.id}`, { CallSid: row.patient_call_sid });
        for (const action of ['hold', 'resume', 'end']) {
          assert.equal((await api(server, `/api/v1/calls/${call.id}/${action}`, { token: lee, method: 'POST' })).status, 200, action);
        }
        await status('completed', { CallDuration: '30' });
        const recordingSid = 'RE' + '7'.repeat(32);
        await webhook(`/webhooks/twilio/recording-status?ref=${call.id}`, {
          AccountSid: TEST_TWILIO.accountSid,
          ConferenceSid: row.conference_sid,
          RecordingSid: recordingSid,
          RecordingStatus: 'completed',
          RecordingDuration: '29',
        });
        voice.recordings.set(recordingSid, Buffer.from('ID3 phi test'));
        const played = await fetch(`${server.url}/api/v1/calls/${call.id}/recording`, { headers: { authorization: `Bearer ${lee}` } });
        assert.equal(played.status, 200);
        await played.arrayBuffer();
      } finally {
        await server.db.knex('tenants').where({ slug: 'demo-clinic' }).update({ recording_enabled: false });
      }

      // A video visit: start, the link texted, the patient's seat, end.
      const visit = (await api(server, `/api/v1/patients/${lucas.id}/video-visits`, { token: lee, method: 'POST' })).body;
      tokens.push({ what: 'practitioner video token', jwt: visit.token });
      assert.equal((await api(server, `/api/v1/video-visits/${visit.id}/send-link`, { token: lee, method: 'POST' })).status, 202);
      const seat = (await api(server, `/api/v1/join/${visit.joinUrl.split('/join/')[1]}`, { method: 'POST' })).body;
      tokens.push({ what: 'patient video token', jwt: seat.token });
      assert.equal((await api(server, `/api/v1/video-visits/${visit.id}/end`, { token: lee, method: 'POST' })).status, 200);

      // HELP from the patient's phone: the clinic's reply goes out through Twilio.
      await webhook('/webhooks/twilio/sms-inbound', { AccountSid: TEST_TWILIO.accountSid, MessageSid: 'SM' + '5'.repeat(32), From: lucas.phone, To: '+61491571266', Body: 'HELP' });
      await waitUntil(() => sms.creates().length === 3, 5000, 'the link and the HELP reply');

      // Every kind of request was made, so the scan below has something to scan.
      const kinds = new Set(all().map((r) => `${r.method} ${r.path.replace(/AC[0-9a-f]{32}/, 'AC').replace(/(CF|CA|RE|RM)[0-9a-f]{32}/g, '$1').replace(/call-[0-9a-f]{32}/, 'call-')}`));
      assert.deepEqual([...kinds].sort(), [
        'GET /2010-04-01/Accounts/AC/Recordings/RE.mp3',
        'POST /2010-04-01/Accounts/AC/Conferences/CF.json',
        'POST /2010-04-01/Accounts/AC/Conferences/CF/Participants/CA.json',
        'POST /2010-04-01/Accounts/AC/Conferences/call-/Participants.json',
        'POST /2010-04-01/Accounts/AC/Messages.json',
        'POST /v1/Rooms',
        'POST /v1/Rooms/RM',
      ]);
      assert.equal(tokens.length, 3);
    });

    test('no request, TwiML answer or token carries the patient’s name, number, MRN, email or id', () => {
      const phone = parsePhoneNumber(lucas.phone);
      const secrets = [
        ...lucas.name.split(' '),
        lucas.phone,
        lucas.phone.slice(1),
        lucas.phoneDisplay,
        phone.formatNational(),
        phone.formatNational().replace(/\D/g, ''),
        phone.nationalNumber,
        phone.formatInternational().replace(/\s/g, '-'),
        lucas.externalId,
        lucas.email,
        lucas.email.split('@')[0]!,
        lucas.id,
      ];
      const scan = (where: string, text: string) => {
        for (const variant of [text, decodeURIComponent(text.replace(/\+/g, ' '))]) {
          for (const secret of secrets) assert.ok(!variant.toLowerCase().includes(secret.toLowerCase()), `${where} contains “${secret}”`);
        }
      };
      const requests = all();
      assert.ok(requests.length >= 9);
      for (const request of requests) {
        const where = `${request.method} ${request.path}`;
        scan(`${where} path`, request.path);
        scan(`${where} query`, request.query.toString());
        scan(`${where} headers`, JSON.stringify(request.headers));
        const isMessage = request.path.endsWith('/Messages.json') && request.method === 'POST';
        const isDial = request.path.endsWith('/Participants.json') && request.method === 'POST';
        for (const [name, value] of request.form) {
          // Delivery needs the number: exactly the patient's E.164 number, and only in To.
          if (name === 'To' && (isMessage || isDial)) {
            assert.equal(value, lucas.phone, `${where} To is the number, nothing more`);
            continue;
          }
          // The practitioner's own text is theirs; the server's own texts (the link, HELP) are scanned.
          if (name === 'Body' && isMessage && value === typed) continue;
          scan(`${where} ${name}`, value);
        }
      }
      for (const answer of twiml) scan(`TwiML for ${answer.path}`, answer.xml);
      for (const token of tokens) {
        const payload = decodeJwt(token.jwt);
        scan(token.what, JSON.stringify(payload));
        const grants = payload.grants as { identity: string; video?: { room: string } };
        assert.match(grants.identity, /^(clinician|practitioner|patient)-[0-9a-f]{16}$/, `${token.what}: an opaque identity`);
        if (grants.video) assert.match(grants.video.room, /^visit-[0-9a-f]{32}$/, `${token.what}: an opaque room`);
      }
      // The server's own texts name the clinic, never the patient.
      const bodies = sms.creates().map((r) => r.form.get('Body')!).filter((b) => b !== typed);
      assert.equal(bodies.length, 2);
      assert.match(bodies[0]!, /^Demo Clinic: your video visit is ready\. Join here: https:\/\/carecomms\.example\.com\/join\/[A-Za-z0-9_-]{43}$/);
      assert.match(bodies[1]!, /^Demo Clinic: reply STOP/);
    });

    test('every URL handed to Twilio is opaque: our webhooks with a random id, or Twilio’s own hold music', () => {
      const callback = new RegExp(`^${TEST_TWILIO.baseUrl.replace(/\./g, '\\.')}/webhooks/twilio/[a-z-]+\\?ref=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}(&leg=patient)?$`);
      const refs = new Set<string>();
      const urls: Array<[string, string]> = [];
      for (const request of all()) for (const [name, value] of request.form) if (/^https?:/.test(value)) urls.push([`${request.path} ${name}`, value]);
      for (const answer of twiml) for (const m of answer.xml.matchAll(/="(https?:[^"]+)"/g)) urls.push([`TwiML for ${answer.path}`, m[1]!.replace(/&amp;/g, '&')]);
      assert.ok(urls.length >= 8, `${urls.length} URLs`);
      for (const [where, url] of urls) {
        if (url === HOLD_MUSIC_URL) continue;
        if (/\/join\//.test(url)) continue;
        assert.match(url, callback, where);
        refs.add(new URL(url).searchParams.get('ref')!);
      }
      assert.ok(!refs.has(lucas.id), 'no callback names the patient');
      // Room and conference names and identities are opaque too.
      for (const request of all()) {
        const unique = request.form.get('UniqueName');
        if (unique) assert.match(unique, /^visit-[0-9a-f]{32}$/);
      }
    });
  });
}
