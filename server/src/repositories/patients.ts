import type { Knex } from '../db/knex.js';
import { prepared } from './prepared.js';
import type { PatientRow } from './rows.js';

export interface PatientKey {
  tenantId: string;
  practitionerId: string;
}

/** Patients and who may see them. Every read for a practitioner goes through patient_access. */
export class PatientRepository {
  constructor(private readonly db: Knex) {}

  private visible(db: Knex, { tenantId, practitionerId }: PatientKey) {
    return db<PatientRow>('patients as p')
      .join('patient_access as a', 'a.patient_id', 'p.id')
      .where('p.tenant_id', tenantId)
      .andWhere('a.practitioner_id', practitionerId)
      .andWhere('a.tenant_id', tenantId);
  }

  async findVisible(key: PatientKey, patientId: string, db: Knex = this.db): Promise<PatientRow | undefined> {
    return this.visible(db, key).where('p.id', patientId).first('p.*');
  }

  async listVisible(
    key: PatientKey,
    options: { q?: string; after?: [string, string]; limit: number },
  ): Promise<Array<PatientRow & { sort_name: string }>> {
    const query = this.visible(this.db, key).select('p.*', this.db.raw('lower(p.name) as sort_name'));
    if (options.q) {
      const like = (text: string) => `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const digits = options.q.replace(/\D/g, '');
      // A name, the host's id (e.g. an MRN), or at least three digits of the phone number.
      query.where((w) => {
        w.whereRaw('lower(p.name) LIKE ?', [like(options.q!)]).orWhereRaw('lower(p.external_id) LIKE ?', [like(options.q!)]);
        if (digits.length >= 3) w.orWhereRaw('p.phone LIKE ?', [like(digits)]);
      });
    }
    if (options.after) query.whereRaw('(lower(p.name), p.id) > (?, ?::uuid)', options.after);
    return query.orderByRaw('lower(p.name), p.id').limit(options.limit);
  }

  async findById(tenantId: string, id: string, db: Knex = this.db): Promise<PatientRow | undefined> {
    return db<PatientRow>('patients').where({ tenant_id: tenantId, id }).first();
  }

  async findByExternalId(tenantId: string, externalId: string, db: Knex = this.db): Promise<PatientRow | undefined> {
    return db<PatientRow>('patients').where({ tenant_id: tenantId, external_id: externalId }).first();
  }

  async findByExternalIds(tenantId: string, externalIds: string[], db: Knex = this.db): Promise<PatientRow[]> {
    if (externalIds.length === 0) return [];
    return db<PatientRow>('patients').where('tenant_id', tenantId).whereIn('external_id', externalIds);
  }

  async findByPhone(tenantId: string, phone: string, db: Knex = this.db): Promise<PatientRow[]> {
    return prepared(db, 'patients_by_phone', db<PatientRow>('patients').where({ tenant_id: tenantId, phone }).orderBy('created_at'));
  }

  /** Insert or update by the host's id. `created` tells which happened. */
  async upsert(
    tenantId: string,
    externalId: string,
    fields: { name: string; phone: string | null; email: string | null },
    db: Knex = this.db,
  ): Promise<{ row: PatientRow; created: boolean }> {
    const [row] = await db('patients')
      .insert({ tenant_id: tenantId, external_id: externalId, ...fields })
      .onConflict(['tenant_id', 'external_id'])
      .merge({ ...fields, updated_at: db.fn.now() })
      .returning(['*', db.raw('(xmax = 0) as created')]);
    const { created, ...rest } = row as PatientRow & { created: boolean };
    return { row: rest, created };
  }

  /**
   * Sets a patient's SMS consent; undefined when it already was so. The
   * condition is in the UPDATE itself, so of two STOPs racing each other only
   * one changes the row (the second re-reads it after the first commits).
   */
  async setOptOut(patientId: string, optedOut: boolean, db: Knex = this.db): Promise<PatientRow | undefined> {
    const [row] = await db<PatientRow>('patients')
      .where('id', patientId)
      .whereNot('opted_out', optedOut)
      .update({ opted_out: optedOut, opted_out_at: optedOut ? db.fn.now() : null, updated_at: db.fn.now() } as never)
      .returning('*');
    return row as PatientRow | undefined;
  }

  /** Replace the set of patients a practitioner may see. */
  async replaceAccess(tenantId: string, practitionerId: string, patientIds: string[], db: Knex = this.db): Promise<void> {
    await db('patient_access').where({ tenant_id: tenantId, practitioner_id: practitionerId }).whereNotIn('patient_id', patientIds).delete();
    if (patientIds.length > 0) {
      await db('patient_access')
        .insert(patientIds.map((patient_id) => ({ tenant_id: tenantId, practitioner_id: practitionerId, patient_id })))
        .onConflict(['practitioner_id', 'patient_id'])
        .ignore();
    }
  }

  async grant(tenantId: string, practitionerId: string, patientIds: string[], db: Knex = this.db): Promise<void> {
    if (patientIds.length === 0) return;
    await db('patient_access')
      .insert(patientIds.map((patient_id) => ({ tenant_id: tenantId, practitioner_id: practitionerId, patient_id })))
      .onConflict(['practitioner_id', 'patient_id'])
      .ignore();
  }

  /** Practitioners allowed to see a patient: who a realtime event about them may reach. */
  async practitionersWithAccess(patientIds: string[], db: Knex = this.db): Promise<Array<{ patient_id: string; practitioner_id: string }>> {
    if (patientIds.length === 0) return [];
    return db('patient_access').whereIn('patient_id', patientIds).select('patient_id', 'practitioner_id');
  }
}
