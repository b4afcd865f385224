import { SessionTokens } from '../auth/tokens.js';
import type { Knex } from '../db/knex.js';
import type { Logger } from '../logger.js';
import type { Repositories } from '../repositories/index.js';
import { AuthService } from './auth.js';
import { CorrespondenceService } from './correspondence.js';
import { PatientService } from './patients.js';
import { SmsService } from './sms.js';

export interface ServiceOptions {
  sessionSecret: string;
  /** The number tenants without their own text from and receive on. */
  defaultNumber: string;
  logger: Logger;
}

export function createServices(db: Knex, repos: Repositories, options: ServiceOptions) {
  const auth = new AuthService(new SessionTokens(options.sessionSecret), repos.tenants);
  const patients = new PatientService(db, repos.patients, repos.tenants, repos.audit, repos.events);
  const correspondence = new CorrespondenceService(
    db,
    repos.correspondence,
    patients,
    repos.patients,
    repos.tenants,
    repos.audit,
    repos.events,
  );
  const sms = new SmsService(db, {
    correspondence: repos.correspondence,
    idempotencyKeys: repos.idempotencyKeys,
    correspondenceService: correspondence,
    patientService: patients,
    patients: repos.patients,
    tenants: repos.tenants,
    outbox: repos.outbox,
    audit: repos.audit,
    events: repos.events,
    defaultNumber: options.defaultNumber,
    logger: options.logger,
  });
  return { auth, patients, correspondence, sms };
}

export type Services = ReturnType<typeof createServices>;
