// Starts `npm start` for the end-to-end tests on a database of its own: a new
// database on DATABASE_URL's server when it is set, else a new embedded PostgreSQL
// in a temporary data directory. Stops it (and drops the database) on SIGTERM.
// With E2E_FRESH=1 it is a first start as a person makes it: no admin from the
// environment (the setup page shows), no OIDC (see e2e/fresh-instance.ts).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { assertLocal, createDatabase, databaseUrl, dropDatabasesLike, uniqueName } from '../test/databases';
import { ADMIN, E2E_PORT, OIDC } from './constants';

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-e2e-'));
const fresh = process.env.E2E_FRESH === '1';
const people = fresh
  ? {}
  : {
      FLOTILLA_ADMIN_EMAIL: ADMIN.email,
      FLOTILLA_ADMIN_PASSWORD: ADMIN.password,
      // Sign-in through OIDC against the provider the OIDC test starts (nothing contacts it before).
      FLOTILLA_OIDC_ISSUER: `http://127.0.0.1:${OIDC.port}`,
      FLOTILLA_OIDC_CLIENT_ID: OIDC.clientId,
      FLOTILLA_OIDC_CLIENT_SECRET: OIDC.clientSecret,
      FLOTILLA_OIDC_NAME: OIDC.name,
    };
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PORT: String(E2E_PORT),
  HOSTNAME: '127.0.0.1',
  FLOTILLA_URL: `http://127.0.0.1:${E2E_PORT}`,
  FLOTILLA_DATA_DIR: dataDir,
  ...people,
  // Real Nix, but never waiting on the public cache (there is no network here).
  FLOTILLA_NIX_CONFIG: process.env.FLOTILLA_NIX_CONFIG ?? 'substituters =\nnarinfo-cache-negative-ttl = 0',
  // The webhook spec's receiver listens on 127.0.0.1.
  FLOTILLA_WEBHOOKS_ALLOW_PRIVATE: 'true',
};
const serverUrl = process.env.DATABASE_URL;
const dbName = uniqueName('flotilla_e2e');
if (serverUrl) {
  assertLocal(serverUrl);
  await createDatabase(serverUrl, dbName);
  env.DATABASE_URL = databaseUrl(serverUrl, dbName);
}

const child = spawn('npm', ['start'], { env, stdio: 'inherit' });
let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  child.kill(signal);
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
child.on('exit', async (code) => {
  if (serverUrl) await dropDatabasesLike(serverUrl, dbName).catch((e) => console.error('[e2e] could not drop', dbName, e));
  await rm(dataDir, { recursive: true, force: true });
  process.exit(stopping ? 0 : (code ?? 1));
});
