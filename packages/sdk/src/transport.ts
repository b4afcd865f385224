import { CareApiError } from './errors.js';

export type TokenSource = () => string | null | Promise<string | null>;

export interface TransportOptions {
  baseUrl: string;
  token?: string | undefined;
  getToken?: TokenSource | undefined;
  fetch?: typeof fetch | undefined;
}

export type Query = Record<string, string | number | null | undefined>;

export interface RequestOptions {
  method?: string;
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Lets the request outlive the page (fetch's `keepalive`): for what a page says as it closes. */
  keepalive?: boolean | undefined;
}

/**
 * HTTP plumbing shared by every resource: URL building, bearer auth with one
 * token refresh on 401, and turning failures into {@link CareApiError}.
 */
export class Transport {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly tokenSource: TokenSource;

  constructor(options: TransportOptions) {
    if (!options.baseUrl) throw new TypeError('createCareClient: baseUrl is required');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    // Bind so a host's `window.fetch` keeps its receiver.
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    const { token, getToken } = options;
    this.tokenSource = getToken ?? (() => token ?? null);
  }

  url(path: string, query?: Query): string {
    const url = new URL(this.baseUrl + path, globalThis.location?.href ?? 'http://localhost/');
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, String(value));
    }
    return url.href;
  }

  async token(): Promise<string | null> {
    return (await this.tokenSource()) ?? null;
  }

  /**
   * Sends a request with the current token; on 401 asks for a token once more
   * and, if it changed, retries once (the host may have refreshed it).
   */
  async send(path: string, options: RequestOptions & { accept?: string } = {}): Promise<Response> {
    const first = await this.token();
    let response = await this.attempt(path, options, first);
    if (response.status === 401) {
      const second = await this.token();
      if (second !== first) {
        await response.body?.cancel();
        response = await this.attempt(path, options, second);
      }
    }
    if (!response.ok) throw await CareApiError.fromResponse(response);
    return response;
  }

  async json<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(path, options);
    try {
      return (await response.json()) as T;
    } catch (cause) {
      throw new CareApiError({
        status: response.status,
        code: 'unexpected_response',
        detail: 'The response is not valid JSON.',
        cause,
      });
    }
  }

  private async attempt(
    path: string,
    options: RequestOptions & { accept?: string },
    token: string | null,
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: options.accept ?? 'application/json', ...options.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await this.fetchImpl(this.url(path, options.query), {
        method: options.method ?? 'GET',
        headers,
        body: options.body === undefined ? null : JSON.stringify(options.body),
        signal: options.signal ?? null,
        keepalive: !!options.keepalive,
      });
    } catch (cause) {
      // An abort is the caller's decision, not a failure: let it through unchanged.
      if (options.signal?.aborted) throw cause;
      throw CareApiError.network(cause);
    }
  }
}
