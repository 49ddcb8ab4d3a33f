// `npm start`: one command that runs Flotilla. Without DATABASE_URL it starts the
// embedded PostgreSQL under the data directory; then it migrates, creates the first
// admin from the environment if asked to, and runs the server and the worker.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '@/lib/db/embedded';
import { safeErrorForLog } from '@/lib/api/errors';
import { closeDb } from '@/lib/db/client';
import { runMigrations } from '@/lib/db/migrate';
import { env, EnvError, resetEnvCache } from '@/lib/env';
import { NixNotFound } from '@/lib/nix/run';
import { BuildSandboxUnavailable, requireBuildSandbox } from '@/lib/nix/sandbox-check';
import { ensureAdminFromEnv, hasAnyUser } from '@/lib/orgs/first-admin';
import type { Server } from '../server';
import type { Worker } from '../worker';
import { ensureBuild } from './ensure-build';
import { assertPortFree, PortUnavailable } from './port';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (line: string) => console.log(`[flotilla] ${line}`);

/** Sessions need a stable secret; without AUTH_SECRET one is made once and kept in the data directory. */
async function ensureAuthSecret(dataDir: string) {
  if (process.env.AUTH_SECRET) return;
  const file = path.join(dataDir, 'auth-secret');
  let secret: string;
  try {
    secret = (await fs.readFile(file, 'utf8')).trim();
  } catch {
    secret = randomBytes(32).toString('base64url');
    await fs.mkdir(dataDir, { recursive: true });
    await fs.writeFile(file, `${secret}\n`, { mode: 0o600 });
    log(`created a session secret in ${file} (set AUTH_SECRET when running several servers)`);
  }
  process.env.AUTH_SECRET = secret;
}

export async function main(roles: { server?: boolean; worker?: boolean } = {}) {
  const runServer = roles.server ?? true;
  const runWorker = roles.worker ?? true;
  let config;
  try {
    config = env();
  } catch (error) {
    if (error instanceof EnvError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const dev = config.NODE_ENV === 'development';
  if (runServer) {
    // First: a taken port is said in a second, before the build, the worker and PostgreSQL.
    await assertPortFree(config.PORT, config.HOSTNAME).catch((error: unknown) => {
      if (!(error instanceof PortUnavailable)) throw error;
      console.error(error.message);
      process.exit(1);
    });
  }
  if (runServer && !dev) ensureBuild(root, log);
  if (runWorker) {
    // Before anything starts: builds run operator code, only ever sandboxed and as a build user.
    const sandbox = await requireBuildSandbox().catch((error: unknown) => {
      if (error instanceof BuildSandboxUnavailable) {
        console.error(error.message);
        process.exit(1);
      }
      if (!(error instanceof NixNotFound)) throw error;
    });
    if (sandbox) log(`builds run in Nix's sandbox as build user uid ${sandbox.builderUid} (checked in ${sandbox.ms} ms)`);
  }
  await fs.mkdir(config.dataDir, { recursive: true });
  await ensureAuthSecret(config.dataDir);
  process.env.NEXTAUTH_URL ??= config.publicUrl;
  process.env.NEXTAUTH_SECRET ??= process.env.AUTH_SECRET;

  let embedded: EmbeddedDatabase | undefined;
  if (!config.DATABASE_URL) {
    if (!runServer || !runWorker) {
      console.error('Running the server or the worker on its own needs DATABASE_URL; `npm start` runs both on the embedded database.');
      process.exit(1);
    }
    log(`starting the embedded PostgreSQL in ${path.join(config.dataDir, 'postgres')}`);
    embedded = await startEmbeddedPostgres(config.dataDir, (line) => process.env.FLOTILLA_DEBUG && console.log(`[postgres] ${line}`));
    process.env.DATABASE_URL = embedded.url;
    resetEnvCache();
  }
  let worker: Worker | undefined;
  let server: Server | undefined;
  /** Stops, in order, whatever has started: the HTTP server, the worker, the pool, PostgreSQL. */
  const stopStarted = async () => {
    await server?.close();
    await worker?.stop();
    await closeDb();
    await embedded?.stop();
  };

  try {
    const databaseUrl = env().DATABASE_URL as string;
    await runMigrations(databaseUrl, path.join(root, 'drizzle'));
    const admin = await ensureAdminFromEnv();
    if (admin === 'created') log(`created the first admin ${config.FLOTILLA_ADMIN_EMAIL}`);

    const { startWorker } = await import('../worker');
    const { startServer } = await import('../server');
    worker = runWorker ? await startWorker(databaseUrl) : undefined;
    server = runServer ? await startServer({ port: config.PORT, hostname: config.HOSTNAME, dev }) : undefined;
  } catch (error) {
    // A half-started Flotilla must not linger: stop the worker and PostgreSQL it started, then exit non-zero.
    if (error instanceof PortUnavailable) console.error(error.message);
    else console.error('[flotilla] could not start:', safeErrorForLog(error));
    await stopStarted().catch((stopError: unknown) => console.error('[flotilla] while stopping:', stopError));
    log('stopped');
    process.exit(1);
  }
  if (server) {
    log(`ready on ${config.publicUrl}`);
    if (!(await hasAnyUser())) log(`no users yet: open ${config.publicUrl}/setup to create the first admin`);
  }
  if (worker) log('worker running');

  let stoppingSince = 0;
  const shutdown = async (signal: string) => {
    if (stoppingSince) {
      // npm and process groups often deliver one Ctrl-C twice; only a later one forces.
      if (Date.now() - stoppingSince < 2_000) return;
      log('forced exit');
      process.exit(1);
    }
    stoppingSince = Date.now();
    log(`${signal}: shutting down`);
    await stopStarted();
    log('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
