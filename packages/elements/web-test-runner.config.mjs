import { fileURLToPath } from 'node:url';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { playwrightLauncher } from '@web/test-runner-playwright';

/** Debian's Chromium; nothing here may download a browser. Override with CHROMIUM_PATH. */
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * `executeServerCommand('emulate-touch', { enabled })`: Chromium's touch
 * emulation, as DevTools' device mode has it, which makes the page's pointer
 * coarse (`@media (pointer: coarse)`), as on a tablet or a phone.
 */
function touchEmulation() {
  /** One DevTools session per page: an emulation belongs to the session that set it. */
  const sessions = new WeakMap();
  return {
    name: 'emulate-touch',
    async executeCommand({ command, payload, session }) {
      if (command !== 'emulate-touch') return undefined;
      const page = session.browser.getPage(session.id);
      if (!sessions.has(page)) sessions.set(page, await page.context().newCDPSession(page));
      await sessions.get(page).send('Emulation.setTouchEmulationEnabled', payload?.enabled ? { enabled: true, maxTouchPoints: 5 } : { enabled: false });
      return true;
    },
  };
}

export default {
  files: ['src/**/*.test.ts'],
  rootDir: fileURLToPath(new URL('../..', import.meta.url)),
  nodeResolve: { exportConditions: ['source', 'browser', 'import', 'default'] },
  plugins: [esbuildPlugin({ ts: true, target: 'es2022', tsconfig: fileURLToPath(new URL('../../tsconfig.json', import.meta.url)) }), touchEmulation()],
  browsers: [
    playwrightLauncher({
      product: 'chromium',
      launchOptions: {
        executablePath,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          // A synthetic camera and microphone, granted without a prompt: video calls run for real.
          '--use-fake-device-for-media-stream',
          '--use-fake-ui-for-media-stream',
        ],
      },
    }),
  ],
  concurrency: 2,
  testsFinishTimeout: 600_000,
  // Generous: a loaded CI machine must not fail a test for being slow; failures are assertions, not clocks.
  testFramework: { config: { timeout: 60000 } },
};
