import type { Knex } from '../db/knex.js';
import { AuditRepository } from './audit.js';
import { CorrespondenceRepository } from './correspondence.js';
import { IdempotencyKeyRepository } from './idempotency-keys.js';
import { OutboxRepository } from './outbox.js';
import { PatientRepository } from './patients.js';
import { RealtimeEventRepository } from './realtime-events.js';
import { SandboxRepository } from './sandbox.js';
import { TenantRepository } from './tenants.js';

export function createRepositories(db: Knex) {
  return {
    tenants: new TenantRepository(db),
    patients: new PatientRepository(db),
    correspondence: new CorrespondenceRepository(db),
    idempotencyKeys: new IdempotencyKeyRepository(db),
    audit: new AuditRepository(db),
    events: new RealtimeEventRepository(db),
    outbox: new OutboxRepository(db),
    sandbox: new SandboxRepository(db),
  };
}

export type Repositories = ReturnType<typeof createRepositories>;
