/** One error family for everything the API answers with problem+json (STYLE §12). */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(detail ?? title);
    this.name = 'AppError';
  }
}

export interface FieldError {
  path: string;
  message: string;
}

export const badRequest = (code: string, detail: string) => new AppError(400, code, 'Bad request', detail);
export const unauthorized = (detail = 'A valid bearer token is required') =>
  new AppError(401, 'unauthorized', 'Unauthorized', detail);
export const forbidden = (detail: string) => new AppError(403, 'forbidden', 'Forbidden', detail);
export const notFound = (what = 'Resource') => new AppError(404, 'not_found', 'Not found', `${what} not found`);
export const conflict = (code: string, detail: string) => new AppError(409, code, 'Conflict', detail);
export const unprocessable = (code: string, detail: string, errors?: FieldError[]) =>
  new AppError(422, code, 'Unprocessable content', detail, errors ? { errors } : undefined);
export const validationFailed = (errors: FieldError[]) =>
  unprocessable('validation_failed', errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; '), errors);
export const unavailable = (code: string, detail: string) => new AppError(503, code, 'Service unavailable', detail);
