/**
 * An object whose methods load their implementation on first use: one cached
 * import, forgotten after a failure so the next call retries (STYLE §8). Keeps
 * code that only a call or visit needs out of the widget's first paint.
 */
export function lazyMethods<T extends object>(names: ReadonlyArray<keyof T & string>, load: () => Promise<T>): T {
  let loading: Promise<T> | undefined;
  return Object.fromEntries(
    names.map((name) => [
      name,
      (...args: unknown[]) => {
        loading ??= load().catch((error: unknown) => {
          loading = undefined;
          throw error;
        });
        return loading.then((api) => (api[name] as (...a: unknown[]) => unknown)(...args));
      },
    ]),
  ) as T;
}
