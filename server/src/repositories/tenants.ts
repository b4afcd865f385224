import type { Knex } from '../db/knex.js';
import { prepared } from './prepared.js';
import type { PractitionerRow, TenantRow } from './rows.js';

/** Tenants (clinics) and their practitioners. */
export class TenantRepository {
  constructor(private readonly db: Knex) {}

  async findById(id: string, db: Knex = this.db): Promise<TenantRow | undefined> {
    return db<TenantRow>('tenants').where({ id }).first();
  }

  async findBySlug(slug: string, db: Knex = this.db): Promise<TenantRow | undefined> {
    return db<TenantRow>('tenants').where({ slug }).first();
  }

  /**
   * Tenants that receive texts on `number`: those whose own Twilio number it is,
   * or, when it is the deployment's default number, those without one.
   */
  async findByMessagingNumber(number: string, defaultNumber: string | null, db: Knex = this.db): Promise<TenantRow[]> {
    return db<TenantRow>('tenants')
      .where('twilio_phone_number', number)
      .modify((q) => {
        if (defaultNumber === number) q.orWhereNull('twilio_phone_number');
      })
      .orderBy('created_at');
  }

  async findByApiKeyHash(hash: string): Promise<TenantRow | undefined> {
    return this.db<TenantRow>('tenants').where({ api_key_hash: hash }).first();
  }

  async create(
    fields: { slug: string; name: string; apiKeyHash: string; twilioPhoneNumber?: string | null; helpReply?: string | null },
    db: Knex = this.db,
  ): Promise<TenantRow> {
    const [row] = await db<TenantRow>('tenants')
      .insert({
        slug: fields.slug,
        name: fields.name,
        api_key_hash: fields.apiKeyHash,
        twilio_phone_number: fields.twilioPhoneNumber ?? null,
        help_reply: fields.helpReply ?? null,
      })
      .returning('*');
    return row as TenantRow;
  }

  async findPractitioner(tenantId: string, id: string): Promise<PractitionerRow | undefined> {
    return prepared(this.db, 'practitioner_by_id', this.db<PractitionerRow>('practitioners').where({ tenant_id: tenantId, id }).first());
  }

  async findPractitionerByExternalId(tenantId: string, externalId: string, db: Knex = this.db): Promise<PractitionerRow | undefined> {
    return db<PractitionerRow>('practitioners').where({ tenant_id: tenantId, external_id: externalId }).first();
  }

  async upsertPractitioner(tenantId: string, externalId: string, name: string, db: Knex = this.db): Promise<{ row: PractitionerRow; created: boolean }> {
    const [row] = await db('practitioners')
      .insert({ tenant_id: tenantId, external_id: externalId, name })
      .onConflict(['tenant_id', 'external_id'])
      .merge({ name, updated_at: db.fn.now() })
      .returning(['id', 'tenant_id', 'external_id', 'name', db.raw('(xmax = 0) as created')]);
    const { created, ...rest } = row as PractitionerRow & { created: boolean };
    return { row: rest, created };
  }
}
