import { notifyAfterCommit } from '../db/notify.js';
import type { Knex } from '../db/knex.js';

/** NOTIFY channel for sandbox phone inbox changes; the payload is the sandbox message id. */
export const SANDBOX_CHANNEL = 'carecomms_sandbox';

export interface SandboxMessageRow {
  id: string;
  sid: string;
  phone: string;
  clinic_number: string;
  direction: 'to_phone' | 'from_phone';
  body: string;
  status: string;
  error_code: string | null;
  reference: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The sandbox provider's record of every patient phone's messages. */
export class SandboxRepository {
  constructor(private readonly db: Knex) {}

  /** One statement (committed when it returns), then the phone's listeners are notified. */
  async insert(row: Omit<SandboxMessageRow, 'id' | 'created_at' | 'updated_at' | 'error_code'>): Promise<SandboxMessageRow> {
    const [inserted] = await this.db('sandbox_messages').insert(row).returning('*');
    const message = normalise(inserted as SandboxMessageRow);
    notifyAfterCommit(this.db, SANDBOX_CHANNEL, String(message.id));
    return message;
  }

  /** Messages from before the server started (the demo's history): nobody is listening yet. */
  async insertMany(rows: Array<Omit<SandboxMessageRow, 'id' | 'error_code'>>, db: Knex = this.db): Promise<void> {
    if (rows.length > 0) await db('sandbox_messages').insert(rows);
  }

  async setStatus(sid: string, status: string): Promise<SandboxMessageRow | undefined> {
    const [row] = await this.db('sandbox_messages').where({ sid }).update({ status, updated_at: this.db.fn.now() }).returning('*');
    if (!row) return undefined;
    const message = normalise(row as SandboxMessageRow);
    notifyAfterCommit(this.db, SANDBOX_CHANNEL, String(message.id));
    return message;
  }

  async findBySid(sid: string): Promise<SandboxMessageRow | undefined> {
    const row = await this.db<SandboxMessageRow>('sandbox_messages').where({ sid }).first();
    return row && normalise(row);
  }

  async findByReference(reference: string): Promise<SandboxMessageRow[]> {
    const rows = await this.db<SandboxMessageRow>('sandbox_messages').where({ reference, direction: 'to_phone' }).orderBy('id');
    return rows.map(normalise);
  }

  /** Messages to phones still on their way (queued or sent), oldest first. */
  async unfinishedToPhone(): Promise<SandboxMessageRow[]> {
    const rows = await this.db<SandboxMessageRow>('sandbox_messages').where({ direction: 'to_phone' }).whereIn('status', ['queued', 'sent']).orderBy('id');
    return rows.map(normalise);
  }

  async findById(id: string): Promise<SandboxMessageRow | undefined> {
    const row = await this.db<SandboxMessageRow>('sandbox_messages').where({ id }).first();
    return row && normalise(row);
  }

  /** A phone's messages in both directions, oldest first, after `afterId`. */
  async listForPhone(phone: string, afterId: string | null, limit: number): Promise<SandboxMessageRow[]> {
    const q = this.db<SandboxMessageRow>('sandbox_messages').where({ phone });
    // Without a position: the latest `limit`; after one: the next `limit`, so polling misses nothing.
    const rows = afterId
      ? await q.andWhere('id', '>', afterId).orderBy('id', 'asc').limit(limit)
      : (await q.orderBy('id', 'desc').limit(limit)).reverse();
    return rows.map(normalise);
  }

  /** The clinic number that last wrote to this phone: where its replies go. */
  async lastClinicNumber(phone: string): Promise<string | null> {
    const row = await this.db<SandboxMessageRow>('sandbox_messages')
      .where({ phone, direction: 'to_phone' })
      .orderBy('id', 'desc')
      .first('clinic_number');
    return row?.clinic_number ?? null;
  }
}

function normalise(row: SandboxMessageRow): SandboxMessageRow {
  return { ...row, id: String(row.id) };
}
