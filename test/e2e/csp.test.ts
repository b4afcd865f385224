import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { twilioEnv } from '../../server/test/helpers.js';
import { startTwilioWithFaults } from '../../server/test/twilio-faults.js';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, startRealServer, type RunningServer } from './harness.js';

/**
 * Chromium that resolves no host name but 127.0.0.1: a WebSocket the CSP lets
 * through fails to resolve inside the browser (no DNS query leaves), one it
 * refuses raises a violation. (Playwright's WebSocket routing replaces the
 * WebSocket class in the page, which would bypass the CSP, so it is not used.)
 */
const launchBrowser = () =>
  chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'], headless: true });

/**
 * The Content-Security-Policy in a real browser: the demo EHR page (with the
 * SMS dialog used), the phone simulator and the patient's join page run
 * without a single violation, while a probe to a foreign host is refused (so
 * the policy is live). With the Twilio provider, the hosts Twilio's SDKs use
 * are allowed. Nothing leaves the machine: requests to other origins are
 * answered inside the browser (routes), and no other host name resolves.
 */

interface Violation {
  directive: string;
  blocked: string;
}

/** A context whose pages record CSP violations and errors, and whose traffic to other origins is answered locally. */
async function isolatedContext(browser: Browser, origin: string): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.route(
    (url) => url.origin !== origin,
    (route) => route.fulfill({ status: 204, headers: { 'access-control-allow-origin': '*' } }),
  );
  await context.addInitScript(() => {
    const seen: Array<{ directive: string; blocked: string }> = [];
    (window as unknown as { __csp: typeof seen }).__csp = seen;
    document.addEventListener('securitypolicyviolation', (event) => seen.push({ directive: event.effectiveDirective, blocked: event.blockedURI }));
  });
  return context;
}

async function watch(page: Page): Promise<{ errors: string[]; violations: () => Promise<Violation[]> }> {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return { errors, violations: () => page.evaluate(() => (window as unknown as { __csp: Violation[] }).__csp) };
}

/** Whether the page's CSP lets it open `url` (fetch, or a WebSocket for ws/wss): the browser's own decision. */
function probe(page: Page, url: string): Promise<boolean> {
  return page.evaluate(async (target) => {
    const before = (window as unknown as { __csp: unknown[] }).__csp.length;
    if (target.startsWith('ws')) {
      try {
        const socket = new WebSocket(target);
        await new Promise((resolve) => {
          socket.onopen = resolve;
          socket.onerror = resolve;
          socket.onclose = resolve;
          setTimeout(resolve, 2000);
        });
        socket.close();
      } catch {
        // a synchronous refusal is a violation too
      }
    } else {
      await fetch(target).catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 100));
    return (window as unknown as { __csp: unknown[] }).__csp.length === before;
  }, url);
}

async function demoSession(server: RunningServer) {
  const { token } = await (await fetch(`${server.url}/demo/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json();
  const patients = (await (await fetch(`${server.url}/api/v1/patients`, { headers: { authorization: `Bearer ${token}` } })).json()).items as Array<{ id: string; name: string }>;
  return { token, patients };
}

async function joinUrl(server: RunningServer): Promise<string> {
  const { token, patients } = await demoSession(server);
  const visit = await fetch(`${server.url}/api/v1/patients/${patients[0]!.id}/video-visits`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  assert.equal(visit.status, 201);
  return server.url + new URL(((await visit.json()) as { joinUrl: string }).joinUrl).pathname;
}

describe('Content-Security-Policy in the browser (sandbox)', { timeout: 120_000 }, () => {
  let server: RunningServer;
  let browser: Browser;
  let context: BrowserContext;
  before(async () => {
    server = await startRealServer({ SANDBOX_LATENCY_MS: '100' });
    browser = await launchBrowser();
    context = await isolatedContext(browser, server.url);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the demo EHR page and its SMS dialog run without a violation; a foreign host is refused', async () => {
    const page = await context.newPage();
    const { errors, violations } = await watch(page);
    await page.goto(server.url + '/');
    await page.locator('care-comms').getByRole('list', { name: 'Correspondence' }).getByRole('listitem').first().waitFor();
    await page.getByRole('button', { name: 'Send SMS', exact: true }).click();
    const dialog = page.locator('care-sms-dialog');
    await dialog.getByRole('textbox', { name: 'Message' }).fill(`CSP check ${Date.now()}`);
    await dialog.getByRole('button', { name: 'Send SMS' }).click();
    await dialog.getByText(/Message sent to/).waitFor();
    assert.deepEqual(await violations(), []);
    assert.deepEqual(errors, []);
    assert.equal(await probe(page, 'https://evil.example.com/collect'), false, 'connect-src refuses other hosts');
    assert.equal(await probe(page, 'wss://global.vss.twilio.com/signaling'), false, 'no Twilio hosts without Twilio');
    assert.equal(await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inline = true';
      document.head.append(script);
      return (window as unknown as { __inline?: boolean }).__inline === true;
    }), false, 'inline script does not run');
    await page.close();
  });

  test('the phone simulator and the patient’s join page run without a violation', async () => {
    for (const url of [`${server.url}/sandbox/phone?phone=%2B61491570006`, await joinUrl(server)]) {
      const page = await context.newPage();
      const { errors, violations } = await watch(page);
      await page.goto(url);
      await page.waitForLoadState('load');
      if (url.includes('/join/')) await page.evaluate(() => customElements.whenDefined('care-video-room'));
      await page.waitForTimeout(500);
      assert.deepEqual(await violations(), [], url);
      assert.deepEqual(errors, [], url);
      await page.close();
    }
  });
});

describe('Content-Security-Policy in the browser (Twilio)', { timeout: 120_000 }, () => {
  let twilio: Awaited<ReturnType<typeof startTwilioWithFaults>>;
  let server: RunningServer;
  let browser: Browser;
  let context: BrowserContext;
  before(async () => {
    twilio = await startTwilioWithFaults();
    server = await startRealServer(twilioEnv(twilio.url));
    browser = await launchBrowser();
    context = await isolatedContext(browser, server.url);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await twilio?.close();
  });

  test('the demo page and the join page let the SDKs reach Twilio’s documented hosts, and nothing else', async () => {
    for (const url of [server.url + '/', await joinUrl(server)]) {
      const page = await context.newPage();
      const { violations } = await watch(page);
      await page.goto(url);
      if (url.includes('/join/')) await page.evaluate(() => customElements.whenDefined('care-video-room'));
      else await page.locator('care-comms').getByRole('list', { name: 'Correspondence' }).getByRole('listitem').first().waitFor();
      await page.waitForTimeout(500);
      assert.deepEqual(await violations(), [], url);
      for (const allowed of [
        'wss://global.vss.twilio.com/signaling',
        'wss://sdkgw.us1.twilio.com/v1/VideoEvents',
        'https://ecs.us1.twilio.com/v2/Configuration',
        'wss://voice-js.roaming.twilio.com/signal',
        'https://eventgw.twilio.com/v4/EndpointEvents',
        'https://sdk.twilio.com/js/client/sounds/releases/1.0.0/incoming.mp3',
      ]) {
        assert.equal(await probe(page, allowed), true, `${url}: ${allowed}`);
      }
      for (const refused of ['https://evil.example.com/x', 'wss://twilio.com.evil.example/x', 'http://ecs.us1.twilio.com/x']) {
        assert.equal(await probe(page, refused), false, `${url}: ${refused}`);
      }
      await page.close();
    }
  });
});
