import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRealServer, type RunningServer } from './harness.js';

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
    let killed = false;
    const queue = [...burst];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let item = queue.shift(); item && !killed; item = queue.shift()) {
          try {
            await send(first.url, item);
          } catch {
            // the server died under this request: it stays unanswered
          }
          if (!killed && answered.size >= 14) {
            killed = true;
            first.process.kill('SIGKILL');
          }
        }
      }),
    );
    await first.stop('SIGKILL');
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
