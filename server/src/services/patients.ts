import type { Patient } from '@carecomms/core';
import { toE164 } from '@carecomms/core/phone';
import type { Knex } from '../db/knex.js';
import { notFound, unprocessable } from '../errors.js';
import type { AuditActor, AuditRepository } from '../repositories/audit.js';
import { decodeCursor, encodeCursor, isUuid } from '../repositories/cursor.js';
import type { PatientKey, PatientRepository } from '../repositories/patients.js';
import type { RealtimeEventRepository } from '../repositories/realtime-events.js';
import { toPatient, type PatientRow } from '../repositories/rows.js';
import type { TenantRepository } from '../repositories/tenants.js';

export interface PatientFields {
  name: string;
  phone?: string | null | undefined;
  email?: string | null | undefined;
}

/**
 * Patients as a practitioner sees them, and as the host backend maintains
 * them. Every read and write is checked against patient_access and audited; a
 * patient the caller may not see is indistinguishable from one that does not exist.
 */
export class PatientService {
  constructor(
    private readonly db: Knex,
    private readonly patients: PatientRepository,
    private readonly tenants: TenantRepository,
    private readonly audit: AuditRepository,
    private readonly events: RealtimeEventRepository,
  ) {}

  /** The patient row if the practitioner may see it, else 404. */
  async requireVisible(key: PatientKey, patientId: string, db: Knex = this.db): Promise<PatientRow> {
    const row = isUuid(patientId) ? await this.patients.findVisible(key, patientId, db) : undefined;
    if (!row) throw notFound('Patient');
    return row;
  }

  async get(key: PatientKey, patientId: string, actor: AuditActor): Promise<Patient> {
    const row = await this.requireVisible(key, patientId);
    await this.audit.appendRead(actor, 'patient.read', [row.id]);
    return toPatient(row);
  }

  async list(key: PatientKey, options: { q?: string; cursor?: string; limit: number }, actor: AuditActor) {
    const after = options.cursor
      ? (decodeCursor(options.cursor, (v) => v.length === 2 && isUuid(v[1]!)) as [string, string])
      : undefined;
    const rows = await this.patients.listVisible(key, { q: options.q, after, limit: options.limit + 1 });
    const pageRows = rows.slice(0, options.limit);
    const last = pageRows.at(-1);
    await this.audit.appendRead(actor, 'patient.list', pageRows.map((r) => r.id));
    return {
      items: pageRows.map(toPatient),
      nextCursor: rows.length > options.limit && last ? encodeCursor([last.sort_name, last.id]) : null,
    };
  }

  /** Host backend: create or update a patient by its id in the host's system. */
  async upsert(tenantId: string, externalId: string, fields: PatientFields, actor: AuditActor) {
    const phone = fields.phone ? toE164(fields.phone, 'AU') : null;
    if (fields.phone && (!phone || !fields.phone.trim().startsWith('+'))) {
      throw unprocessable('validation_failed', 'phone must be a valid international number (E.164), e.g. +61491570006', [
        { path: 'body.phone', message: 'must be a valid international number (E.164), e.g. +61491570006' },
      ]);
    }
    return this.db.transaction(async (trx) => {
      const { row, created } = await this.patients.upsert(
        tenantId,
        externalId,
        { name: fields.name, phone, email: fields.email ?? null },
        trx,
      );
      await this.audit.append(actor, created ? 'patient.create' : 'patient.update', [row.id], trx);
      const patient = toPatient(row);
      await this.events.publish({ tenantId, patientId: row.id, type: 'patient.updated', payload: patient }, trx);
      return { patient, created };
    });
  }

  /** Host backend: set exactly which patients a practitioner may see. */
  async replaceAccess(tenantId: string, practitionerExternalId: string, patientExternalIds: string[], actor: AuditActor) {
    return this.db.transaction(async (trx) => {
      const practitioner = await this.tenants.findPractitionerByExternalId(tenantId, practitionerExternalId, trx);
      if (!practitioner) {
        throw unprocessable('unknown_practitioner', `No practitioner with externalId "${practitionerExternalId}"; create it with PUT /api/v1/admin/practitioners/:externalId`);
      }
      const unique = [...new Set(patientExternalIds)];
      const rows = await this.patients.findByExternalIds(tenantId, unique, trx);
      if (rows.length !== unique.length) {
        const known = new Set(rows.map((r) => r.external_id));
        const missing = unique.filter((id) => !known.has(id));
        throw unprocessable(
          'unknown_patient',
          `Unknown patient externalId: ${missing.join(', ')}`,
          missing.map((id) => ({ path: 'body.patients', message: `unknown patient "${id}"` })),
        );
      }
      await this.patients.replaceAccess(tenantId, practitioner.id, rows.map((r) => r.id), trx);
      await this.audit.append(actor, 'access.replace', rows.length ? rows.map((r) => r.id) : [null], trx);
      return { practitioner: practitioner.external_id, patients: rows.map((r) => r.external_id).sort() };
    });
  }
}
