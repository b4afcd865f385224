import type { Knex } from '../db/knex.js';

export type VisitStatus = 'created' | 'waiting' | 'in-progress' | 'completed';
export type VisitRole = 'practitioner' | 'patient';
export type VisitEventKind = 'participant-connected' | 'participant-disconnected' | 'room-ended';

export interface VideoVisitRow {
  id: string;
  tenant_id: string;
  patient_id: string;
  practitioner_id: string | null;
  correspondence_id: string;
  provider: 'twilio' | 'sandbox';
  room_name: string;
  room_sid: string;
  practitioner_identity: string;
  patient_identity: string;
  status: VisitStatus;
  started_at: Date | null;
  ended_at: Date | null;
  expires_at: Date;
  created_at: Date;
  updated_at: Date;
}

export interface JoinLinkRow {
  id: string;
  visit_id: string;
  token_hash: string;
  channel: 'dialog' | 'sms';
  expires_at: Date;
  use_count: number;
  first_used_at: Date | null;
  last_used_at: Date | null;
  created_at: Date;
}

export interface VisitEventRow {
  id: string;
  visit_id: string;
  kind: VisitEventKind;
  role: VisitRole | null;
  participant: string | null;
  occurred_at: Date;
  dedupe_key: string;
}

export interface NewVisitEvent {
  visitId: string;
  kind: VisitEventKind;
  role: VisitRole | null;
  participant: string | null;
  occurredAt: Date;
  dedupeKey: string;
}

/** Video visits, their join links and participant events (knex only). */
export class VideoVisitRepository {
  constructor(private readonly db: Knex) {}

  async insert(row: Omit<VideoVisitRow, 'status' | 'started_at' | 'ended_at' | 'created_at' | 'updated_at'>, db: Knex = this.db): Promise<VideoVisitRow> {
    const [inserted] = await db('video_visits').insert(row).returning('*');
    return inserted as VideoVisitRow;
  }

  async findById(id: string, db: Knex = this.db): Promise<VideoVisitRow | undefined> {
    return db<VideoVisitRow>('video_visits').where({ id }).first();
  }

  async findInTenant(tenantId: string, id: string, db: Knex = this.db): Promise<VideoVisitRow | undefined> {
    return db<VideoVisitRow>('video_visits').where({ tenant_id: tenantId, id }).first();
  }

  async lock(id: string, db: Knex): Promise<VideoVisitRow | undefined> {
    return db<VideoVisitRow>('video_visits').where({ id }).forUpdate().first();
  }

  async findByRoomSid(roomSid: string, db: Knex = this.db): Promise<VideoVisitRow | undefined> {
    return db<VideoVisitRow>('video_visits').where({ room_sid: roomSid }).first();
  }

  async update(id: string, changes: Partial<Pick<VideoVisitRow, 'status' | 'started_at' | 'ended_at'>>, db: Knex = this.db): Promise<VideoVisitRow> {
    const [row] = await db('video_visits')
      .where({ id })
      .update({ ...changes, updated_at: db.fn.now() })
      .returning('*');
    return row as VideoVisitRow;
  }

  /**
   * Visits past their expiry that nobody ended, and visits whose room ended
   * with their outcome still to come and no report since `quietSince`.
   */
  async overdue(now: Date, quietSince: Date, limit: number): Promise<VideoVisitRow[]> {
    return this.db<VideoVisitRow>('video_visits')
      .whereNot({ status: 'completed' })
      .andWhere((q) => q.where('expires_at', '<', now).orWhere((ended) => ended.whereNotNull('ended_at').andWhere('updated_at', '<', quietSince)))
      .orderBy('expires_at')
      .limit(limit);
  }

  /**
   * Open visits the practitioner has left: their last practitioner report,
   * before `quietSince`, was a leaving, and every practitioner participant that
   * came has left since (a reload, a closed tab, a dropped connection that did
   * not come back). The practitioner cannot take that seat again (a new visit
   * is a new room), so the patient would otherwise wait until the visit expires.
   */
  async practitionerGone(quietSince: Date, limit: number): Promise<VideoVisitRow[]> {
    return this.db<VideoVisitRow>('video_visits as v')
      .select('v.*')
      .whereNot('v.status', 'completed')
      .whereNull('v.ended_at')
      .whereExists((left) =>
        left.from('video_visit_events as e').whereRaw('e.visit_id = v.id').andWhere({ 'e.role': 'practitioner', 'e.kind': 'participant-disconnected' }),
      )
      .whereNotExists((present) =>
        present
          .from('video_visit_events as c')
          .whereRaw('c.visit_id = v.id')
          .andWhere({ 'c.role': 'practitioner', 'c.kind': 'participant-connected' })
          .whereNotExists((gone) =>
            gone.from('video_visit_events as d').whereRaw('d.visit_id = v.id').andWhere('d.kind', 'participant-disconnected').andWhereRaw('d.participant = c.participant'),
          ),
      )
      .whereNotExists((recent) =>
        recent.from('video_visit_events as r').whereRaw('r.visit_id = v.id').andWhere('r.role', 'practitioner').andWhere('r.occurred_at', '>=', quietSince),
      )
      .orderBy('v.expires_at')
      .limit(limit);
  }

  async insertJoinLink(link: { visitId: string; tokenHash: string; channel: JoinLinkRow['channel']; expiresAt: Date }, db: Knex = this.db): Promise<void> {
    await db('join_links').insert({ visit_id: link.visitId, token_hash: link.tokenHash, channel: link.channel, expires_at: link.expiresAt });
  }

  async deleteJoinLink(tokenHash: string, db: Knex = this.db): Promise<void> {
    await db('join_links').where({ token_hash: tokenHash }).delete();
  }

  async findJoinLink(tokenHash: string, db: Knex = this.db): Promise<JoinLinkRow | undefined> {
    return db<JoinLinkRow>('join_links').where({ token_hash: tokenHash }).first();
  }

  async recordJoinLinkUse(id: string, db: Knex = this.db): Promise<void> {
    await db('join_links')
      .where({ id })
      .update({
        use_count: db.raw('use_count + 1'),
        first_used_at: db.raw('coalesce(first_used_at, now())'),
        last_used_at: db.fn.now(),
      });
  }

  /** Stores an event once; false when the same event was already stored (a duplicate webhook). */
  async recordEvent(event: NewVisitEvent, db: Knex = this.db): Promise<boolean> {
    const rows = await db('video_visit_events')
      .insert({
        visit_id: event.visitId,
        kind: event.kind,
        role: event.role,
        participant: event.participant,
        occurred_at: event.occurredAt,
        dedupe_key: event.dedupeKey,
      })
      .onConflict(['visit_id', 'dedupe_key'])
      .ignore()
      .returning('id');
    return rows.length > 0;
  }

  async events(visitId: string, db: Knex = this.db): Promise<VisitEventRow[]> {
    return db<VisitEventRow>('video_visit_events').where({ visit_id: visitId }).orderBy([{ column: 'occurred_at' }, { column: 'id' }]);
  }
}
