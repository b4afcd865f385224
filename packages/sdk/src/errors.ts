import type { Problem } from '@carecomms/core';

/** Error codes the SDK itself produces, next to the server's problem `code`s. */
export type ClientErrorCode = 'network_error' | 'unexpected_response';

/**
 * The one error the SDK throws for a failed request: a non-2xx answer (with the
 * server's problem details) or a request that never got an answer
 * (`status` 0, `code` `network_error`).
 */
export class CareApiError extends Error {
  override readonly name = 'CareApiError';
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;
  /** Stable machine-readable code, e.g. `opted_out`, `not_found`, `network_error`. */
  readonly code: string;
  /** Human-readable explanation, safe to show to the practitioner. */
  readonly detail: string;
  /** The problem document as the server sent it, when it sent one. */
  readonly problem: Problem | null;

  constructor(init: { status: number; code: string; detail: string; problem?: Problem | null; cause?: unknown }) {
    super(init.detail, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.problem = init.problem ?? null;
  }

  /** Builds the error for a non-2xx response, reading its problem document when there is one. */
  static async fromResponse(response: Response): Promise<CareApiError> {
    const problem = await readProblem(response);
    if (problem) {
      return new CareApiError({
        status: response.status,
        code: problem.code,
        detail: problem.detail ?? problem.title,
        problem,
      });
    }
    return new CareApiError({
      status: response.status,
      code: 'unexpected_response',
      detail: `The server answered ${response.status} ${response.statusText}`.trim(),
    });
  }

  static network(cause: unknown): CareApiError {
    return new CareApiError({
      status: 0,
      code: 'network_error',
      detail: 'The CareComms server could not be reached.',
      cause,
    });
  }
}

async function readProblem(response: Response): Promise<Problem | null> {
  const type = response.headers.get('content-type') ?? '';
  if (!/json/i.test(type)) return null;
  try {
    const body: unknown = await response.json();
    if (body && typeof body === 'object' && typeof (body as Problem).code === 'string') return body as Problem;
  } catch {
    // A truncated or non-JSON body is reported as an unexpected response below.
  }
  return null;
}
