import { waitUntil } from '@open-wc/testing';

/** Finds an element by CSS selector through open shadow roots. */
export function deepQuery<T extends Element = HTMLElement>(root: Element | ShadowRoot | Document, selector: string): T | null {
  if (root instanceof Element && root.shadowRoot) {
    const inside = deepQuery<T>(root.shadowRoot, selector);
    if (inside) return inside;
  }
  const direct = root.querySelector<T>(selector);
  if (direct) return direct;
  for (const el of root.querySelectorAll('*')) {
    if (el.shadowRoot) {
      const found = deepQuery<T>(el.shadowRoot, selector);
      if (found) return found;
    }
  }
  return null;
}

/** The element that has focus, through open shadow roots. */
export function deepActiveElement(): Element | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active;
}

/** Waits until `selector` matches inside `root` (through shadow roots) and returns it. */
export async function waitFor<T extends Element = HTMLElement>(root: Element | ShadowRoot, selector: string): Promise<T> {
  await waitUntil(() => deepQuery(root, selector), `${selector} did not appear`, { timeout: 4000 });
  return deepQuery<T>(root, selector)!;
}

/**
 * The virtualizer resizes rows from a ResizeObserver; Chromium then reports the
 * benign "ResizeObserver loop completed with undelivered notifications" as a
 * window error, which mocha would count as a failure. A capturing listener runs
 * before mocha's `onerror` and stops it.
 */
export function ignoreResizeObserverLoop(): void {
  window.addEventListener(
    'error',
    (event) => {
      if (/ResizeObserver loop/.test(event.message)) event.stopImmediatePropagation();
    },
    true,
  );
}

/** Waits for running CSS animations (a dialog fading in) so axe measures final colours. */
export async function animationsDone(): Promise<void> {
  const roots: Array<Document | ShadowRoot> = [document];
  for (let i = 0; i < roots.length; i += 1) {
    for (const el of roots[i]!.querySelectorAll('*')) if (el.shadowRoot) roots.push(el.shadowRoot);
  }
  const animations = roots.flatMap((root) => root.getAnimations());
  await Promise.all(animations.map((animation) => animation.finished.catch(() => undefined)));
}
