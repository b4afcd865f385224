import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { twilioSignature } from '../../server/src/providers/twilio-signature.js';
import { TEST_TWILIO, twilioEnv } from '../../server/test/helpers.js';
import { MESSAGE_CREATE, startTwilioWithFaults } from '../../server/test/twilio-faults.js';
import { startRealServer, type RunningServer } from './harness.js';

/**
 * Sends `items`, `inFlight` at a time, and SIGKILLs `server` as soon as
 * `killWhen()` holds after an answer. A request the kill cuts short throws
 * and stays unanswered (the client, or Twilio, retries it later).
 */
async function sendUntilKilled<T>(
  server: RunningServer,
  items: readonly T[],
  options: { inFlight: number; killWhen: () => boolean },
  send: (item: T) => Promise<unknown>,
): Promise<void> {
  let killed = false;
  const queue = [...items];
  await Promise.all(
    Array.from({ length: options.inFlight }, async () => {
      for (let item = queue.shift(); item !== undefined && !killed; item = queue.shift()) {
        try {
          await send(item);
        } catch {
          // the server died under this request: it stays unanswered
        }
        if (!killed && options.killWhen()) {
          killed = true;
          server.process.kill('SIGKILL');
        }
      }
    }),
  );
  await server.stop('SIGKILL');
}

/**
 * kill -9 in the middle of a burst of SMS: with the sandbox slow and flaky, the
 * server process is SIGKILLed while requests are in flight, restarted on the
 * same data, and the client retries every unanswered request with its
 * Idempotency-Key. Every message must reach the simulated phone exactly once
 * and end delivered.
 */
describe('crash survival', { timeout: 240_000 }, () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'carecomms-crash-'));
  let server: RunningServer | null = null;
  after(async () => {
    await server?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const env = {
    SANDBOX_LATENCY_MS: '150',
    SANDBOX_FAIL_RATE: '0.3',
    OUTBOX_POLL_MS: '50',
    OUTBOX_RETRY_BASE_MS: '50',
    OUTBOX_LEASE_MS: '3000',
  };

  test('a SIGKILL during a burst loses nothing and sends nothing twice', async () => {
    server = await startRealServer(env, dataDir);
    const { token } = await (await fetch(`${server.url}/demo/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json();
    const auth = { authorization: `Bearer ${token}` };
    const patients = ((await (await fetch(`${server.url}/api/v1/patients`, { headers: auth })).json()).items as Array<{ id: string; phone: string | null; optedOut: boolean }>).filter(
      (p) => p.phone && !p.optedOut,
    );
    assert.ok(patients.length >= 4);

    const run = Date.now().toString(36);
    const burst = Array.from({ length: 40 }, (_, i) => ({ key: `burst-${run}-${i}`, patient: patients[i % patients.length]!, body: `Burst ${run} message ${i}` }));
    const answered = new Map<string, string>();
    const send = async (base: string, item: (typeof burst)[number]) => {
      const res = await fetch(`${base}/api/v1/patients/${item.patient.id}/messages`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': item.key },
        body: JSON.stringify({ body: item.body }),
      });
      assert.equal(res.status, 202, await res.clone().text());
      const entry = (await res.json()) as { id: string };
      const earlier = answered.get(item.key);
      if (earlier) assert.equal(entry.id, earlier, 'a retry with the same key returns the same entry');
      answered.set(item.key, entry.id);
    };

    // Eight requests in flight at a time; SIGKILL once a third have been answered.
    const first = server;
    await sendUntilKilled(first, burst, { inFlight: 8, killWhen: () => answered.size >= 14 }, (item) => send(first.url, item));
    assert.ok(answered.size < burst.length, 'the kill left requests unanswered');

    server = await startRealServer(env, dataDir);
    const second = server;
    // The client retries whatever was not answered, and (harmlessly) a few that were.
    const retries = burst.filter((item) => !answered.has(item.key)).concat(burst.slice(0, 3));
    for (const item of retries) await send(second.url, item);
    assert.equal(answered.size, burst.length);

    // Every entry ends delivered…
    const deadline = Date.now() + 120_000;
    for (;;) {
      const statuses = await Promise.all(
        burst.map(async (item) => {
          const page = await (await fetch(`${second.url}/api/v1/correspondence?patientId=${item.patient.id}&channel=sms&limit=200`, { headers: auth })).json();
          return (page.items as Array<{ id: string; status: string }>).find((e) => e.id === answered.get(item.key))?.status;
        }),
      );
      if (statuses.every((s) => s === 'delivered')) break;
      assert.ok(Date.now() < deadline, `not all delivered: ${JSON.stringify(statuses)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    // …and each text is on the patient's phone exactly once.
    for (const patient of patients) {
      const inbox = (await (await fetch(`${second.url}/sandbox/api/messages?phone=${encodeURIComponent(patient.phone!)}&limit=500`)).json()) as {
        items: Array<{ body: string }>;
      };
      for (const item of burst.filter((b) => b.patient.id === patient.id)) {
        assert.equal(inbox.items.filter((m) => m.body === item.body).length, 1, `${item.body} on the phone once`);
      }
    }
  });
});

/** The demo clinic's own number (seeded): where patients' texts arrive. */
const CLINIC_NUMBER = '+61491571266';

interface Patient {
  id: string;
  name: string;
  phone: string | null;
  optedOut: boolean;
}

/** A session, the textable patients and a JSON fetch against a running server. */
async function client(server: RunningServer) {
  const { token } = await (await fetch(`${server.url}/demo/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json();
  const auth = { authorization: `Bearer ${token}` };
  const patients = ((await (await fetch(`${server.url}/api/v1/patients`, { headers: auth })).json()).items as Patient[]).filter((p) => p.phone && !p.optedOut);
  const history = async (base: string, patientId: string, query = '') =>
    ((await (await fetch(`${base}/api/v1/correspondence?patientId=${patientId}&channel=sms&limit=200${query}`, { headers: auth })).json()).items as Array<{
      id: string;
      status: string;
      body: string;
      direction: string;
      providerSid: string | null;
    }>);
  return { token, auth, patients, history };
}

/** Posts a webhook as Twilio would: form-encoded, signed over BASE_URL + path + query. */
async function twilioWebhook(base: string, path: string, params: Record<string, string>) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(TEST_TWILIO.authToken, TEST_TWILIO.baseUrl + path, params) },
    body: new URLSearchParams(params).toString(),
  });
  await res.text();
  return res.status;
}

/**
 * The real binary with the Twilio provider, pointed at a local Twilio
 * stand-in that holds the first sends unanswered (some after creating the
 * message, some before), so SIGKILL lands between the outbox claim and the
 * provider's answer. Restarted on the same data, every message must reach
 * Twilio exactly once and, once Twilio reports delivery, end delivered.
 */
describe('crash between the outbox claim and the provider call', { timeout: 120_000 }, () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'carecomms-crash-claim-'));
  let server: RunningServer | null = null;
  let twilio: Awaited<ReturnType<typeof startTwilioWithFaults>> | null = null;
  after(async () => {
    await server?.stop('SIGKILL');
    await twilio?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('sends in flight when the process dies are looked up, not repeated, and the rest go out once', async () => {
    const mock = await startTwilioWithFaults();
    twilio = mock;
    const env = {
      ...twilioEnv(mock.url),
      // Long enough that the held sends are still in flight when the process dies.
      TWILIO_TIMEOUT_MS: '60000',
      OUTBOX_POLL_MS: '50',
      OUTBOX_RETRY_BASE_MS: '50',
      OUTBOX_LEASE_MS: '2000',
      OUTBOX_CONCURRENCY: '4',
    };
    // The first sends get no answer, alternately after Twilio created the message and before it did: as many as
    // one claim can take (OUTBOX_CONCURRENCY), so whatever the worker has in flight at the kill is held.
    for (const reached of [true, false, true, false]) mock.inject({ method: 'POST', path: MESSAGE_CREATE, fault: { kind: 'hang', reached } });
    server = await startRealServer(env, dataDir);
    const first = server;
    const { auth, patients, history } = await client(first);
    assert.ok(patients.length >= 4);

    const run = Date.now().toString(36);
    const items = Array.from({ length: 12 }, (_, i) => ({ key: `claim-${run}-${i}`, patient: patients[i % patients.length]!, body: `Claim ${run} message ${i}` }));
    const ids = new Map<string, string>();
    await Promise.all(
      items.map(async (item) => {
        const res = await fetch(`${first.url}/api/v1/patients/${item.patient.id}/messages`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': item.key },
          body: JSON.stringify({ body: item.body }),
        });
        assert.equal(res.status, 202);
        ids.set(item.body, ((await res.json()) as { id: string }).id);
      }),
    );
    // Rows claimed, their sends held unanswered by "Twilio": kill the process now.
    const held = () => mock.seen.filter((r) => r.method === 'POST' && MESSAGE_CREATE.test(r.path));
    const deadline = Date.now() + 20_000;
    while (held().length === 0) {
      assert.ok(Date.now() < deadline, `no send reached Twilio:\n${first.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300));
    first.process.kill('SIGKILL');
    await first.stop('SIGKILL');
    mock.clearFaults();
    const inFlight = held().length;
    assert.ok(inFlight >= 1 && inFlight <= 4, `${inFlight} sends in flight at the kill`);
    assert.ok(held().every((r) => r.fault?.kind === 'hang'), 'every send before the kill was held unanswered');
    const createdBefore = held().filter((r) => r.fault?.kind === 'hang' && r.fault.reached).length;
    assert.ok(createdBefore >= 1);
    assert.equal(mock.messages.messages.length, createdBefore, 'Twilio had created some of them before the crash');

    server = await startRealServer(env, dataDir);
    const second = server;
    // Every message reaches Twilio exactly once.
    const sendDeadline = Date.now() + 40_000;
    while (mock.messages.messages.length < items.length) {
      assert.ok(Date.now() < sendDeadline, `only ${mock.messages.messages.length} of ${items.length} reached Twilio`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500));
    for (const item of items) assert.equal(mock.messages.messages.filter((m) => m.body === item.body).length, 1, `${item.body} sent once`);
    assert.equal(mock.messages.messages.length, items.length);
    // The held ones were looked up before anything was sent again.
    const afterCrash = mock.seen.filter((r) => r.method === 'POST' && MESSAGE_CREATE.test(r.path)).slice(inFlight);
    assert.equal(afterCrash.length, items.length - createdBefore, 'the sends Twilio already had were not repeated');
    for (const created of mock.messages.messages.slice(0, createdBefore)) assert.ok(!afterCrash.some((r) => r.form.get('Body') === created.body));

    // Twilio reports delivery to the callback URL each send carried: every entry ends delivered.
    const callbacks = mock.seen.filter((r) => r.method === 'POST' && MESSAGE_CREATE.test(r.path)).map((r) => r.form.get('StatusCallback')!);
    for (const message of mock.messages.messages) {
      const request = mock.seen.find((r) => r.method === 'POST' && r.form.get('Body') === message.body)!;
      const callback = new URL(request.form.get('StatusCallback')!);
      assert.ok(callbacks.includes(callback.href));
      for (const status of ['sent', 'delivered']) {
        assert.equal(
          await twilioWebhook(second.url, callback.pathname + callback.search, { AccountSid: TEST_TWILIO.accountSid, MessageSid: message.sid, MessageStatus: status, To: message.to, From: message.from }),
          200,
        );
      }
    }
    for (const item of items) {
      const entry = (await history(second.url, item.patient.id)).find((e) => e.id === ids.get(item.body))!;
      assert.equal(entry.status, 'delivered', item.body);
      assert.equal(entry.providerSid, mock.messages.messages.find((m) => m.body === item.body)!.sid);
    }
  });
});

/**
 * SIGKILL in the middle of a stream of signed webhooks (patients' replies and
 * delivery reports): Twilio retries whatever got no answer, and may repeat
 * some that did. Every reply is stored exactly once and every status ends
 * where Twilio's last report put it.
 */
describe('crash during webhooks', { timeout: 120_000 }, () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'carecomms-crash-webhook-'));
  let server: RunningServer | null = null;
  let twilio: Awaited<ReturnType<typeof startTwilioWithFaults>> | null = null;
  after(async () => {
    await server?.stop('SIGKILL');
    await twilio?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('inbound replies stored once, statuses right, after a kill and Twilio’s retries', async () => {
    const mock = await startTwilioWithFaults();
    twilio = mock;
    const env = { ...twilioEnv(mock.url), OUTBOX_POLL_MS: '50', OUTBOX_RETRY_BASE_MS: '50' };
    server = await startRealServer(env, dataDir);
    const first = server;
    const { auth, patients, history } = await client(first);
    const run = Date.now().toString(36);

    // Outbound texts for Twilio to report on.
    const outbound = Array.from({ length: 8 }, (_, i) => ({ patient: patients[i % patients.length]!, body: `Report ${run} ${i}` }));
    for (const item of outbound) {
      const res = await fetch(`${first.url}/api/v1/patients/${item.patient.id}/messages`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ body: item.body }) });
      assert.equal(res.status, 202);
    }
    const sentDeadline = Date.now() + 20_000;
    while (mock.messages.messages.filter((m) => m.body.startsWith(`Report ${run}`)).length < outbound.length) {
      assert.ok(Date.now() < sentDeadline, 'the texts never reached Twilio');
      await new Promise((r) => setTimeout(r, 50));
    }
    const sends = mock.seen.filter((r) => r.method === 'POST' && MESSAGE_CREATE.test(r.path));

    type Hook = { path: string; params: Record<string, string> };
    const hooks: Hook[] = [];
    // Patients reply: 30 texts, each with its own MessageSid.
    const replies = Array.from({ length: 30 }, (_, i) => ({ patient: patients[i % patients.length]!, body: `Reply ${run} ${i}`, sid: `SM${run.padStart(16, '0')}${i.toString(16).padStart(16, '0')}` }));
    for (const reply of replies) {
      hooks.push({
        path: '/webhooks/twilio/sms-inbound',
        params: { AccountSid: TEST_TWILIO.accountSid, MessageSid: reply.sid, SmsSid: reply.sid, From: reply.patient.phone!, To: CLINIC_NUMBER, Body: reply.body, NumMedia: '0' },
      });
    }
    // Twilio reports each text sent, then delivered; the last one undelivered with its error code.
    for (const [index, message] of mock.messages.messages.filter((m) => m.body.startsWith(`Report ${run}`)).entries()) {
      const callback = new URL(sends.find((r) => r.form.get('Body') === message.body)!.form.get('StatusCallback')!);
      const final: Record<string, string> = index === outbound.length - 1 ? { MessageStatus: 'undelivered', ErrorCode: '30003' } : { MessageStatus: 'delivered' };
      for (const status of [{ MessageStatus: 'sent' }, final]) {
        hooks.push({ path: callback.pathname + callback.search, params: { AccountSid: TEST_TWILIO.accountSid, MessageSid: message.sid, To: message.to, From: message.from, ...status } });
      }
    }

    // Six in flight at a time, as Twilio's webhooks arrive; SIGKILL once a third are answered.
    const answered = new Set<Hook>();
    await sendUntilKilled(first, hooks, { inFlight: 6, killWhen: () => answered.size >= hooks.length / 3 }, async (hook) => {
      if ((await twilioWebhook(first.url, hook.path, hook.params)) === 200) answered.add(hook);
    });
    assert.ok(answered.size < hooks.length, 'the kill left webhooks unanswered');

    server = await startRealServer(env, dataDir);
    const second = server;
    // Twilio retries every webhook that got no answer, in its original order, and repeats a few that did.
    const retries = hooks.filter((h) => !answered.has(h)).concat(hooks.filter((h) => answered.has(h)).slice(0, 5));
    for (const hook of retries) assert.equal(await twilioWebhook(second.url, hook.path, hook.params), 200);

    for (const patient of patients) {
      const entries = await history(second.url, patient.id, '&direction=inbound');
      for (const reply of replies.filter((r) => r.patient.id === patient.id)) {
        assert.equal(entries.filter((e) => e.body === reply.body).length, 1, `${reply.body} stored once`);
      }
    }
    const outboundEntries = (await Promise.all(patients.map((p) => history(second.url, p.id, '&direction=outbound')))).flat().filter((e) => e.body.startsWith(`Report ${run}`));
    assert.equal(outboundEntries.length, outbound.length);
    for (const entry of outboundEntries) {
      assert.equal(entry.status, entry.body === outbound.at(-1)!.body ? 'undelivered' : 'delivered', entry.body);
    }
    assert.equal(mock.messages.messages.filter((m) => m.body.startsWith(`Report ${run}`)).length, outbound.length, 'no text sent twice across the crash');
  });
});
