import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The server's logger. Logs carry a request id and route patterns, never
 * message bodies, names, phone numbers or tokens; the redaction list is a
 * second line of defence should such a field ever be passed in by mistake.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: undefined,
    redact: {
      paths: [
        'authorization',
        'token',
        'body',
        'phone',
        'name',
        'email',
        'contact',
        '*.authorization',
        '*.token',
        '*.body',
        '*.phone',
        '*.name',
        '*.email',
        '*.contact',
        'req.headers.authorization',
        'req.headers.cookie',
      ],
      censor: '[redacted]',
    },
  });
}
