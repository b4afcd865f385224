type Loader = () => Promise<void>;

const loaders = new Map<string, Loader>();
const pending = new Map<string, Promise<void>>();

/** Defines `tag` unless it is already defined (a second copy of the bundle must not throw). */
export function define(tag: string, element: CustomElementConstructor): void {
  if (!customElements.get(tag)) customElements.define(tag, element);
}

/** Registers how to load an element that is defined on first use rather than up front. */
export function registerLazyElement(tag: string, load: Loader): void {
  loaders.set(tag, load);
}

/**
 * Resolves once `tag` is defined, loading it when a loader is registered. One
 * promise per tag, cleared on failure so a later attempt can retry (e.g. after
 * a network blip while fetching the chunk).
 */
export function ensureDefined(tag: string): Promise<void> {
  if (customElements.get(tag)) return Promise.resolve();
  const load = loaders.get(tag);
  if (!load) return customElements.whenDefined(tag).then(() => undefined);
  let promise = pending.get(tag);
  if (!promise) {
    promise = load().catch((error: unknown) => {
      pending.delete(tag);
      throw error;
    });
    pending.set(tag, promise);
  }
  return promise;
}

/** Loads the given lazy elements, by default every registered one (used once the page is idle). */
export function preloadLazyElements(tags: Iterable<string> = loaders.keys()): Promise<void> {
  return Promise.all([...tags].map((tag) => ensureDefined(tag))).then(() => undefined);
}
