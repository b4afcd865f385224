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
