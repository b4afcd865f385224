import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { parsePhoneNumber } from 'libphonenumber-js';
import { twilioSignature } from '../src/providers/twilio-signature.js';
import { HOLD_MUSIC_URL } from '../src/providers/voice-twilio.js';
import { api, databases, FAST_OUTBOX_ENV, startServer, TEST_TWILIO, twilioEnv, waitUntil, type TestServer } from './helpers.js';
import { startTwilioWithFaults } from './twilio-faults.js';

const API_KEY = { sid: 'SK' + '6'.repeat(32), secret: 'phi-api-key-secret-0123456789' };
const TWIML_APP_SID = 'AP' + '8'.repeat(32);

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
    let twilio: Awaited<ReturnType<typeof startTwilioWithFaults>>;
    let lee: string;
    let lucas: { id: string; name: string; phone: string; phoneDisplay: string; externalId: string; email: string };
    /** What left for Twilio: requests (all three mocks), TwiML answers, access tokens. */
    const twiml: Array<{ path: string; xml: string }> = [];
    const tokens: Array<{ what: string; jwt: string }> = [];
    /** The Body of the practitioner's own SMS: theirs to write, the one thing exempt. */
    const typed = 'See you Tuesday at 10 for your check-up';

    before(async () => {
      twilio = await startTwilioWithFaults();
      server = await startServer(kind, {
        env: {
          ...FAST_OUTBOX_ENV,
          ...twilioEnv(twilio.url),
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
      await twilio?.close();
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
    /** Every request the three stand-ins received (Rooms requests carry no query). */
    const all = () => [...twilio.messages.requests, ...twilio.voice.requests, ...twilio.rooms.requests.map((r) => ({ ...r, query: new URLSearchParams() }))];

    test('an SMS, a recorded call, a video visit and a HELP reply', async () => {
      // SMS.
      const sent = await api(server, `/api/v1/patients/${lucas.id}/messages`, { token: lee, body: { body: typed } });
      assert.equal(sent.status, 202);
      await waitUntil(() => twilio.messages.creates().length === 1, 5000, 'the Messages create');

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
        twilio.voice.recordings.set(recordingSid, Buffer.from('ID3 phi test'));
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
      await waitUntil(() => twilio.messages.creates().length === 3, 5000, 'the link and the HELP reply');

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
      const bodies = twilio.messages.creates().map((r) => r.form.get('Body')!).filter((b) => b !== typed);
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
