import { createHash } from 'node:crypto';
import type { Knex } from '../db/knex.js';

/**
 * Names a hot query so that PostgreSQL parses and plans it once per connection
 * and then only binds and executes it (on the history page, planning took
 * longer than running the query). `name` must stand for exactly one SQL text:
 * pass a name per query shape, or use {@link statementName}. PGlite runs the
 * query as it is.
 */
export function prepared<Q extends { options(options: Readonly<Record<string, unknown>>): Q }>(db: Knex, name: string, query: Q): Q {
  return db.client.config.client === 'pg' ? query.options({ name }) : query;
}

/** A prepared-statement name derived from the SQL text itself, for statements whose text varies. */
export function statementName(prefix: string, sql: string): string {
  return `${prefix}_${createHash('sha1').update(sql).digest('base64url').slice(0, 16)}`;
}
