import type { Knex } from '../db/knex.js';

/** Whose key it is: keys are per practitioner, so two practitioners' keys never collide. */
export interface IdempotencyScope {
  tenantId: string;
  practitionerId: string;
}

export interface IdempotencyKeyRow {
  request_hash: string;
  correspondence_id: string | null;
}

/** How long a key is remembered: a retry after this sends again (clients retry within minutes). */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/** `Idempotency-Key`s of message sends, remembered for {@link IDEMPOTENCY_KEY_TTL_MS}. */
export class IdempotencyKeyRepository {
  constructor(private readonly db: Knex) {}

  /**
   * Claims `key` for a request. False when it was claimed before (the insert
   * waits for a concurrent request with the same key to commit, then yields).
   */
  async claim(trx: Knex, scope: IdempotencyScope, key: string, requestHash: string): Promise<boolean> {
    const claimed = await trx('idempotency_keys')
      .insert({ tenant_id: scope.tenantId, practitioner_id: scope.practitionerId, key, request_hash: requestHash })
      .onConflict(['tenant_id', 'practitioner_id', 'key'])
      .ignore()
      .returning('key');
    return claimed.length > 0;
  }

  async find(trx: Knex, scope: IdempotencyScope, key: string): Promise<IdempotencyKeyRow | undefined> {
    return trx('idempotency_keys')
      .where({ tenant_id: scope.tenantId, practitioner_id: scope.practitionerId, key })
      .first('request_hash', 'correspondence_id');
  }

  /** Records what the request with `key` created, for its replays. */
  async bind(trx: Knex, scope: IdempotencyScope, key: string, correspondenceId: string): Promise<void> {
    await trx('idempotency_keys').where({ tenant_id: scope.tenantId, practitioner_id: scope.practitionerId, key }).update({ correspondence_id: correspondenceId });
  }

  /** Forgets keys claimed before `before`; returns how many. */
  async expire(before: Date): Promise<number> {
    const deleted: unknown = await this.db('idempotency_keys').where('created_at', '<', before).delete();
    // pg answers a count; knex-pglite the driver's result.
    return typeof deleted === 'number' ? deleted : ((deleted as { rowCount?: number }).rowCount ?? 0);
  }
}
