import { parseArgs } from 'node:util';
import path from 'node:path';
import { generateApiKey } from '../auth/tokens.js';
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { TenantRepository } from '../repositories/tenants.js';

const USAGE = `Usage:
  npm run tenant -w server -- create --slug <slug> --name <name> [--phone <E.164>] [--help-reply <text>]
  npm run tenant -w server -- rotate-key --slug <slug>
  npm run tenant -w server -- recording --slug <slug> on|off

Creates a tenant (clinic) or gives it a new host-backend API key. The key is
printed once; only its hash is stored. \`recording\` turns call recording on or
off for the clinic (off by default; when on, patients hear a notice first).`;

/** Tenant administration from the command line: the way to create a clinic outside demo mode. */
async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { slug: { type: 'string' }, name: { type: 'string' }, phone: { type: 'string' }, 'help-reply': { type: 'string' } },
  });
  const command = positionals[0];
  if ((command !== 'create' && command !== 'rotate-key' && command !== 'recording') || !values.slug || !/^[a-z0-9-]{2,64}$/.test(values.slug)) {
    process.stderr.write(`${USAGE}\n\n--slug must be 2-64 lowercase letters, digits or dashes.\n`);
    return 64;
  }
  const recording = positionals[1];
  if (command === 'recording' && recording !== 'on' && recording !== 'off') {
    process.stderr.write(`${USAGE}\n\nrecording takes on or off.\n`);
    return 64;
  }
  if (values.phone && !/^\+[1-9]\d{6,14}$/.test(values.phone)) {
    process.stderr.write('--phone must be an E.164 number like +61491571266\n');
    return 64;
  }
  const config = loadConfig({ SESSION_SECRET: 'x'.repeat(32), ...process.env });
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.databaseUrl ? null : path.join(config.dataDir, 'pglite') });
  try {
    await db.knex.migrate.latest();
    const tenants = new TenantRepository(db.knex);
    if (command === 'recording') {
      const updated = await db.knex('tenants').where({ slug: values.slug }).update({ recording_enabled: recording === 'on' });
      if (updated === 0) {
        process.stderr.write(`No tenant with slug "${values.slug}".\n`);
        return 65;
      }
      process.stdout.write(`Call recording for ${values.slug}: ${recording}\n`);
      return 0;
    }
    const { key, hash } = generateApiKey();
    if (command === 'create') {
      if (!values.name) {
        process.stderr.write('--name is required\n');
        return 64;
      }
      if (await tenants.findBySlug(values.slug)) {
        process.stderr.write(`A tenant with slug "${values.slug}" already exists; use rotate-key for a new key.\n`);
        return 65;
      }
      await tenants.create({ slug: values.slug, name: values.name, apiKeyHash: hash, twilioPhoneNumber: values.phone ?? null, helpReply: values['help-reply'] ?? null });
    } else {
      const updated = await db.knex('tenants').where({ slug: values.slug }).update({ api_key_hash: hash });
      if (updated === 0) {
        process.stderr.write(`No tenant with slug "${values.slug}".\n`);
        return 65;
      }
    }
    process.stdout.write(`API key for ${values.slug} (shown once, store it in your backend's secrets):\n${key}\n`);
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`carecomms: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
    process.exit(1);
  },
);
