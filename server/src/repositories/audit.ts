import type { Knex } from '../db/knex.js';
import { prepared } from './prepared.js';

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
    const unique = [...new Set(patientIds)];
    if (unique.length === 0) return;
    // One statement, one round trip: its implicit transaction turns synchronous
    // commit off for itself (set_config's is_local), as SET LOCAL would in BEGIN … COMMIT.
    await prepared(
      this.db,
      'audit_read',
      this.db.raw(
        `INSERT INTO audit_log (tenant_id, actor_type, actor_id, patient_id, action, request_id, ip)
         SELECT ?, ?, ?, patient_id, ?, ?, ? FROM unnest(?::uuid[]) AS patient_id
         WHERE set_config('synchronous_commit', 'off', true) = 'off'`,
        [actor.tenantId, actor.type, actor.id, action, actor.requestId, actor.ip, `{${unique.join(',')}}`],
      ),
    );
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
