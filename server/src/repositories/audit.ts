import type { Knex } from '../db/knex.js';

export interface AuditActor {
  tenantId: string;
  type: 'practitioner' | 'api_key' | 'patient' | 'system' | 'webhook';
  id: string | null;
  requestId: string | null;
  ip: string | null;
}

/** The append-only record of who read or changed which patient's data. */
export class AuditRepository {
  constructor(private readonly db: Knex) {}

  /**
   * Records a read. Its commit does not wait for the disk flush
   * (synchronous_commit off): a read changes no patient data, and this keeps
   * audited reads from costing an fsync each. A crash can lose at most the last
   * fraction of a second of read records; writes are audited in their own
   * transaction, fully durable.
   */
  async appendRead(actor: AuditActor, action: string, patientIds: string[]): Promise<void> {
    if (patientIds.length === 0) return;
    await this.db.transaction(async (trx) => {
      await trx.raw('SET LOCAL synchronous_commit TO OFF');
      await this.append(actor, action, patientIds, trx);
    });
  }

  async append(actor: AuditActor, action: string, patientIds: Array<string | null>, db: Knex = this.db): Promise<void> {
    const unique = [...new Set(patientIds)];
    if (unique.length === 0) return;
    await db('audit_log').insert(
      unique.map((patient_id) => ({
        tenant_id: actor.tenantId,
        actor_type: actor.type,
        actor_id: actor.id,
        patient_id,
        action,
        request_id: actor.requestId,
        ip: actor.ip,
      })),
    );
  }
}
