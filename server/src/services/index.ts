import { SessionTokens } from '../auth/tokens.js';
import type { Knex } from '../db/knex.js';
import type { Repositories } from '../repositories/index.js';
import { AuthService } from './auth.js';
import { CorrespondenceService } from './correspondence.js';
import { PatientService } from './patients.js';

export function createServices(db: Knex, repos: Repositories, sessionSecret: string) {
  const auth = new AuthService(new SessionTokens(sessionSecret), repos.tenants);
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
  return { auth, patients, correspondence };
}

export type Services = ReturnType<typeof createServices>;
