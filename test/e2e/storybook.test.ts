import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Browser, ConsoleMessage } from 'playwright-core';
import { launchBrowser } from './harness.js';

const root = path.resolve(import.meta.dirname, '../..');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** Serves a directory read-only on an ephemeral port; enough for a static Storybook. */
async function serveStatic(dir: string): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (pathname === '/favicon.ico') {
      // Chromium asks for it on every page; Storybook ships favicon.svg instead.
      res.writeHead(204).end();
      return;
    }
    const file = path.join(dir, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
    if (!file.startsWith(dir + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res
        .writeHead(200, {
          'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
          // Bundles have content hashes in their names; caching them lets Chromium
          // reuse its compiled code from one story to the next.
          ...(pathname.startsWith('/assets/') ? { 'cache-control': 'public, max-age=3600, immutable' } : {}),
        })
        .end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

/** `npm run storybook:build`, with the output redirected to `outDir` (the last `-o` wins). */
async function buildStorybook(outDir: string): Promise<void> {
  const child = spawn('npm', ['run', 'storybook:build', '--', '-o', outDir], {
    cwd: root,
    env: { ...process.env, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, `storybook build failed:\n${output}`);
}

interface RenderResult {
  phase: string;
  shownError: string | null;
  element: string | null;
  rendered: boolean;
}

interface IndexEntry {
  id: string;
  type: 'story' | 'docs';
  title: string;
  name: string;
}

/**
 * Every story of the built Storybook, loaded on its own in Chromium: it must
 * render its element (a shadow root with content), finish its play function,
 * and raise no page error. The stories use the element tests' fake server, so
 * this needs no network and no CareComms server.
 */
describe('storybook', () => {
  let outDir: string;
  let site: { url: string; server: Server };
  let browser: Browser;
  let stories: IndexEntry[];

  before(async () => {
    outDir = mkdtempSync(path.join(os.tmpdir(), 'carecomms-storybook-'));
    await buildStorybook(outDir);
    site = await serveStatic(outDir);
    browser = await launchBrowser();
    const index = (await (await fetch(`${site.url}/index.json`)).json()) as { entries: Record<string, IndexEntry> };
    stories = Object.values(index.entries).filter((entry) => entry.type === 'story');
  });

  after(async () => {
    await browser?.close();
    site?.server.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  test('has stories for every element', () => {
    const titles = new Set(stories.map((s) => s.title));
    for (const element of [
      'Care comms',
      'Action bar',
      'Dialog',
      'Patient picker',
      'Correspondence list',
      'SMS dialog',
      'Call dialog',
      'Video dialog',
    ]) {
      assert.ok(titles.has(`Elements/${element}`), `no stories for ${element}`);
    }
  });

  test('every story renders its element without errors', async () => {
    const failures: string[] = [];
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    // Two pages at a time: more only fight over the CPU on a two-core CI machine.
    const queue = [...stories];
    const worker = async () => {
      const page = await context.newPage();
      for (let story = queue.shift(); story; story = queue.shift()) {
        const errors: string[] = [];
        const onError = (error: Error) => errors.push(String(error));
        const onConsole = (message: ConsoleMessage) => {
          if (message.type() === 'error') errors.push(`${message.text()} (${message.location().url})`);
        };
        page.on('pageerror', onError);
        page.on('console', onConsole);
        // Storybook reports its own progress; no need to wait for the load event too.
        await page.goto(`${site.url}/iframe.html?id=${story.id}&viewMode=story`, { waitUntil: 'commit' });
        const result = await page
          .waitForFunction(
            () => {
              const preview = (window as { __STORYBOOK_PREVIEW__?: { currentRender?: { phase?: string } } })
                .__STORYBOOK_PREVIEW__;
              const phase = preview?.currentRender?.phase;
              if (phase !== 'finished' && phase !== 'errored' && phase !== 'aborted') return null;
              const element = [...document.querySelectorAll('#storybook-root *')].find((el) =>
                el.localName.startsWith('care-'),
              );
              const result: RenderResult = {
                phase,
                shownError: document.body.classList.contains('sb-show-errordisplay')
                  ? document.querySelector('#error-message')?.textContent ?? 'error shown'
                  : null,
                element: element?.localName ?? null,
                rendered: !!element?.shadowRoot && element.shadowRoot.childElementCount > 0,
              };
              return result;
            },
            undefined,
            { timeout: 15_000, polling: 50 },
          )
          .then((handle) => handle.jsonValue() as Promise<RenderResult>)
          .catch(
            (error: unknown): RenderResult => ({ phase: 'timeout', shownError: String(error), element: null, rendered: false }),
          );
        page.off('pageerror', onError);
        page.off('console', onConsole);
        const problems = [
          result.phase !== 'finished' && `ended in phase ${result.phase}`,
          result.shownError && `showed an error: ${result.shownError}`,
          !result.element && 'no care-* element in the story root',
          result.element && !result.rendered && `<${result.element}> has no rendered shadow root`,
          ...errors.map((e) => `page error: ${e}`),
        ].filter(Boolean);
        if (problems.length) failures.push(`${story.id}:\n  ${problems.join('\n  ')}`);
      }
      await page.close();
    };
    await Promise.all([worker(), worker()]);
    await context.close();
    assert.deepEqual(failures, [], `${failures.length} of ${stories.length} stories failed`);
  });
});
