import type { Knex } from '../db/knex.js';
import { EVENTS_CHANNEL } from '../db/database.js';
import { notifyAfterCommit } from '../db/notify.js';

export interface RealtimeEventRow {
  id: string;
  tenant_id: string;
  patient_id: string | null;
  type: string;
  payload: unknown;
  created_at: Date;
}

/**
 * The durable event log behind SSE. Each write inserts a row and, once its
 * transaction commits, NOTIFYs the id, so listeners hear only of committed
 * events and a reconnecting client can replay what it missed from `Last-Event-ID`.
 */
export class RealtimeEventRepository {
  constructor(private readonly db: Knex) {}

  async publish(event: { tenantId: string; patientId: string | null; type: string; payload: unknown }, db: Knex = this.db): Promise<string> {
    const [row] = await db('realtime_events')
      .insert({ tenant_id: event.tenantId, patient_id: event.patientId, type: event.type, payload: JSON.stringify(event.payload) })
      .returning('id');
    const id = String((row as { id: string }).id);
    this.notifyCommitted(id, db);
    return id;
  }

  /** Tells every instance of an event `db` wrote (e.g. in the same statement as its entry), once `db` commits. */
  notifyCommitted(id: string, db: Knex = this.db): void {
    notifyAfterCommit(db, EVENTS_CHANNEL, id);
  }

  async byIds(ids: string[]): Promise<RealtimeEventRow[]> {
    return this.db<RealtimeEventRow>('realtime_events').whereIn('id', ids).orderBy('id');
  }

  /** Events a practitioner may see after `afterId`, for a reconnecting client. */
  async replay(tenantId: string, practitionerId: string, afterId: string, limit: number): Promise<RealtimeEventRow[]> {
    return this.db<RealtimeEventRow>('realtime_events as e')
      .select('e.*')
      .where('e.tenant_id', tenantId)
      .andWhere('e.id', '>', afterId)
      .whereExists((sub) =>
        sub.from('patient_access as a').whereRaw('a.patient_id = e.patient_id').andWhere('a.practitioner_id', practitionerId),
      )
      .orderBy('e.id')
      .limit(limit);
  }

  /** Events written in the last `seconds`, for the hub's sweep. */
  async recent(seconds: number): Promise<RealtimeEventRow[]> {
    return this.db<RealtimeEventRow>('realtime_events')
      .where('created_at', '>', this.db.raw(`now() - make_interval(secs => ?)`, [seconds]))
      .orderBy('id')
      .limit(2000);
  }

  async pruneOlderThan(date: Date): Promise<number> {
    return this.db('realtime_events').where('created_at', '<', date).delete();
  }
}
