import knexPkg from 'knex';
import type { Knex } from 'knex';

/** knex's factory: under ESM it arrives as the default export's `knex` property. */
export const knex = ((knexPkg as unknown as { knex?: typeof knexPkg }).knex ?? knexPkg) as typeof knexPkg;
export type { Knex };
