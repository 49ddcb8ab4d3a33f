// What bench:agents and bench:fanout share: a database of their own (on DATABASE_URL's
// server, or an embedded PostgreSQL), an organisation with N enrolled hosts seeded in
// one statement, the real server and worker processes (node + tsx on server.ts and
// worker.ts, as `npm run start:server` runs them), their RSS and CPU from /proc, the
// database's counters from pg_stat_database, and cleaning all of it up on any exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { createApiToken } from '@/lib/auth/api-tokens';
import { callerForUser } from '@/lib/auth/membership';
import { ROLE_PERMISSIONS } from '@/lib/auth/permissions';
import { generateSecret } from '@/lib/auth/secrets';
import { closeDb } from '@/lib/db/client';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '@/lib/db/embedded';
import { runMigrations } from '@/lib/db/migrate';
import { benchOrg } from '../seed';
import { buildIsStale, ensureBuild } from '../../scripts/ensure-build';
import { createDatabase, databaseUrl, dropDatabasesLike, uniqueName } from '../../test/databases';
import type { SimHost } from './agent';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ------------------------------------------------------------------ options

export function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} takes a number`);
  return value;
}

export function textFlag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

// ------------------------------------------------------------------ cleanup on every exit

const cleanups: (() => Promise<void>)[] = [];
const killers: (() => void)[] = [];
let cleaning: Promise<void> | null = null;

/** Runs at the end, on Ctrl-C and on a crash, newest first. `kill` is the synchronous part for process 'exit'. */
export function onCleanup(fn: () => Promise<void>, kill?: () => void) {
  cleanups.unshift(fn);
  if (kill) killers.push(kill);
}

export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const fn of cleanups) await fn().catch((error: unknown) => console.error('[bench] cleanup step failed:', error));
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping everything this bench started`);
    void cleanup().finally(() => process.exit(130));
  });
}
process.on('exit', () => {
  for (const kill of killers) kill();
});

/** Runs the bench; whatever happens, cleans up and exits (0 on success). */
export function main(run: () => Promise<void>) {
  run()
    .then(
      () => 0,
      (error: unknown) => {
        console.error('[bench] failed:', error);
        return 1;
      },
    )
    .then(async (code) => {
      await cleanup();
      process.exit(code);
    });
}

// ------------------------------------------------------------------ database

export type BenchDatabase = { adminUrl: string; url: string; name: string; tmp: string; embedded: boolean };

/** A fresh, migrated database, dropped (with the embedded server and the temp dir) at cleanup. */
export async function benchDatabase(): Promise<BenchDatabase> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-bench-'));
  onCleanup(() => rm(tmp, { recursive: true, force: true }));
  let embedded: EmbeddedDatabase | undefined;
  if (!process.env.DATABASE_URL) {
    embedded = await startEmbeddedPostgres(path.join(tmp, 'pg'));
    onCleanup(() => (embedded as EmbeddedDatabase).stop());
  }
  const adminUrl = process.env.DATABASE_URL ?? (embedded?.url as string);
  const name = uniqueName('flotilla_bench');
  await createDatabase(adminUrl, name);
  onCleanup(() => dropDatabasesLike(adminUrl, name));
  const url = databaseUrl(adminUrl, name);
  process.env.DATABASE_URL = url;
  onCleanup(() => closeDb());
  await runMigrations(url, path.join(root, 'drizzle'));
  return { adminUrl, url, name, tmp, embedded: !!embedded };
}

const NIX_BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';
/** A store path that passes ZStorePath: 32 characters of Nix's base32, then a name. */
export function storePath(name: string): string {
  const bytes = randomBytes(32);
  return `/nix/store/${[...bytes].map((b) => NIX_BASE32[b % 32]).join('')}-${name}`;
}

export type Fleet = { orgId: string; userId: string; token: string; hosts: SimHost[] };

/**
 * An organisation like bench/seed.ts makes, an operator's API token made by the real code,
 * and `count` enrolled hosts: each a host credential from generateSecret('hst') stored as
 * its hash (what enrollHost stores), written in one statement from arrays.
 */
export async function seedFleet(count: number): Promise<Fleet> {
  const { org, user } = await benchOrg();
  const caller = await callerForUser(user.id);
  if (!caller) throw new Error('no caller for the bench user');
  const { token } = await createApiToken(caller, { name: 'bench', scopes: [...ROLE_PERMISSIONS.operator] });

  const names: string[] = [];
  const hashes: string[] = [];
  const systems: string[] = [];
  const credentials = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const name = `sim-${String(i).padStart(5, '0')}`;
    const { secret, hash } = generateSecret('hst');
    names.push(name);
    hashes.push(hash);
    systems.push(storePath(`nixos-system-${name}`));
    credentials.set(name, secret);
  }
  const sql = postgres(process.env.DATABASE_URL as string, { max: 1, onnotice: () => {} });
  try {
    // Deploy-only hosts: their systems come from deploy.json (bench:fanout), never built here.
    const rows = await sql<{ id: string; name: string; current_system: string }[]>`
      insert into hosts (org_id, name, tags, credential_hash, enrolled_at, online, current_system, booted_system, desired_system, agent_version, deploy_only)
      select ${org.id}::uuid, n, array['sim'], h, now(), false, s, s, s, '0.1.0', true
      from unnest(${names}::text[], ${hashes}::text[], ${systems}::text[]) as t(n, h, s)
      returning id, name, current_system`;
    await sql`analyze hosts`;
    return {
      orgId: org.id,
      userId: user.id,
      token,
      hosts: rows.map((r) => ({ hostId: r.id, name: r.name, credential: credentials.get(r.name) as string, system: r.current_system })),
    };
  } finally {
    await sql.end();
  }
}

// ------------------------------------------------------------------ processes

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * The web app's build, made when there is none (or, with --rebuild, when it is older than
 * its sources). A stale build is used as it is: only the pages and API routes run from it;
 * the gateway, delivery and the worker run from the sources (tsx). A failed `next build`
 * deletes the build it replaces, and in a tree others are editing it fails often.
 */
export function buildOnce() {
  const exists = existsSync(path.join(root, '.next', 'BUILD_ID'));
  if (exists && !process.argv.includes('--rebuild')) {
    if (buildIsStale(root)) log('note: the web app build is older than some sources (API routes run from it); --rebuild to build first');
    return;
  }
  ensureBuild(root, log);
}

/** A server (bench/sim/serve.ts: server.ts's startServer) or worker (worker.ts) process under node + tsx, its log in the temp dir. */
export class FlotillaProcess {
  proc: ChildProcess | null = null;
  port = 0;
  private logFile: string;
  private starts = 0;
  /** Lines the process wrote that mention failures, by their text without ids and numbers. */
  readonly problems = new Map<string, { count: number; example: string }>();

  constructor(
    readonly role: 'server' | 'worker',
    readonly label: string,
    private env: NodeJS.ProcessEnv,
    private tmp: string,
  ) {
    this.logFile = path.join(tmp, `${label}.log`);
    onCleanup(
      async () => this.stop(),
      () => this.proc?.kill('SIGKILL'),
    );
  }

  get pid() {
    return this.proc?.pid ?? 0;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    if (this.role === 'server' && !this.port) this.port = await freePort();
    this.starts += 1;
    const out = createWriteStream(this.logFile, { flags: 'a' });
    out.write(`\n---- start ${this.starts} at ${new Date().toISOString()}\n`);
    // --cpu-prof DIR: a V8 CPU profile of each server and worker, written when it stops (open in Chrome's DevTools).
    const profile = textFlag('cpu-prof');
    // A directory per process and start: each thread (tsx's loader runs in one of its own) writes a file.
    const profiling = profile ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(profile, `${this.label}-${this.starts}`)] : [];
    const proc = spawn(process.execPath, [...profiling, '--import', 'tsx', this.role === 'server' ? 'bench/sim/serve.ts' : 'worker.ts'], {
      cwd: root,
      env: { ...this.env, ...(this.role === 'server' ? { PORT: String(this.port), HOSTNAME: '127.0.0.1' } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    let partial = '';
    const scan = (chunk: Buffer) => {
      out.write(chunk);
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.scan(line);
    };
    proc.stdout?.on('data', scan);
    proc.stderr?.on('data', scan);
    proc.on('exit', () => out.end());
    if (this.role === 'server') await this.ready(proc);
  }

  private scan(line: string) {
    if (!/fail|error|deadlock|timeout|refus|could not|cannot|unhandled/i.test(line)) return;
    const key = line
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
      .replace(/sim-\d+/g, '<host>')
      .replace(/\d+(\.\d+)?/g, 'N')
      .slice(0, 160);
    const seen = this.problems.get(key);
    if (seen) seen.count += 1;
    else this.problems.set(key, { count: 1, example: line.slice(0, 400) });
  }

  private async ready(proc: ChildProcess) {
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`${this.label} exited with ${proc.exitCode} while starting; see ${this.logFile}:\n${(await readFile(this.logFile, 'utf8')).slice(-3000)}`);
      const ok = await fetch(`${this.url}/api/health`, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await sleep(200);
    }
    throw new Error(`${this.label} did not answer /api/health within 300 s`);
  }

  /** Resolves once the process has exited. */
  exited(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => proc.once('exit', () => resolve()));
  }

  /** kill -9: no goodbye to its agents, no presence cleanup. */
  kill9() {
    this.proc?.kill('SIGKILL');
  }

  async stop() {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
      setTimeout(() => {
        proc.kill('SIGKILL');
        resolve();
      }, 10_000).unref();
    });
  }

  async keepLog(dir: string) {
    await cp(this.logFile, path.join(dir, `${this.label}.log`)).catch(() => {});
  }
}

/** The environment of a server or worker on the bench's database, with its own data directory and session secret. */
export function flotillaEnv(database: BenchDatabase): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    FLOTILLA_DATA_DIR: path.join(database.tmp, 'data'),
    AUTH_SECRET: randomBytes(32).toString('base64url'),
    NEXT_TELEMETRY_DISABLED: '1',
  };
  delete env.FLOTILLA_URL;
  return env;
}

// ------------------------------------------------------------------ measuring

const CLK_TCK = 100;

/** RSS (MB) and CPU (% of one core) of a process, sampled once a second from /proc. */
export class ProcSampler {
  private timer: NodeJS.Timeout;
  private last: { at: number; ticks: number } | null = null;
  rss: number[] = [];
  cpu: number[] = [];

  constructor(private pid: () => number) {
    this.timer = setInterval(() => this.sample(), 1_000);
    this.timer.unref();
  }

  private sample() {
    const pid = this.pid();
    if (!pid) return;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      const at = performance.now();
      if (this.last && ticks >= this.last.ticks) this.cpu.push(((ticks - this.last.ticks) / CLK_TCK / ((at - this.last.at) / 1000)) * 100);
      this.last = { at, ticks };
      this.rss.push(rssKb / 1024);
    } catch {
      this.last = null;
    }
  }

  reset() {
    this.rss = [];
    this.cpu = [];
  }

  stop() {
    clearInterval(this.timer);
  }
}

export type PgCounters = { xact: number; updated: number; inserted: number; deadlocks: number; at: number };

/** The bench database's counters, read over the admin database so reading them is not counted in them. */
export class PgStats {
  private sql: postgres.Sql;

  constructor(
    adminUrl: string,
    private name: string,
  ) {
    this.sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
    onCleanup(() => this.sql.end());
  }

  async read(): Promise<PgCounters> {
    const [row] = await this.sql<{ xact: string; updated: string; inserted: string; deadlocks: string }[]>`
      select xact_commit + xact_rollback as xact, tup_updated as updated, tup_inserted as inserted, deadlocks
      from pg_stat_database where datname = ${this.name}`;
    return { xact: Number(row?.xact ?? 0), updated: Number(row?.updated ?? 0), inserted: Number(row?.inserted ?? 0), deadlocks: Number(row?.deadlocks ?? 0), at: performance.now() };
  }
}

/**
 * The bench's own queries on the bench database, counted: they are subtracted from the
 * database's transaction count, which must only show what the server does.
 */
export class BenchQueries {
  readonly sql: postgres.Sql;
  count = 0;

  constructor(url: string) {
    this.sql = postgres(url, { max: 2, onnotice: () => {} });
    onCleanup(() => this.sql.end());
  }

  async onlineCount(orgId: string): Promise<number> {
    this.count += 1;
    const [row] = await this.sql<{ n: number }[]>`select count(*)::int as n from hosts where org_id = ${orgId} and online`;
    return row?.n ?? 0;
  }

  async offlineIds(orgId: string): Promise<string[]> {
    this.count += 1;
    const rows = await this.sql<{ id: string }[]>`select id from hosts where org_id = ${orgId} and not online`;
    return rows.map((r) => r.id);
  }
}

/**
 * The number of agent sockets a server process says it holds, from its Prometheus metrics,
 * when it exposes one (a flotilla_gateway_* gauge). Not flotilla_agents_connected: that
 * is the fleet's count of hosts online in the database.
 */
export async function serverCount(url: string, token: string): Promise<number | null> {
  let text = '';
  try {
    const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
    if (response.ok) text = await response.text();
  } catch {
    // A busy server that does not answer in time has no count to give this time.
  }
  const match = /^flotilla_gateway_\w*(?:connected|connections|sockets)\w*(?:\{[^}]*\})?\s+(\d+)/m.exec(text);
  return match ? Number(match[1]) : null;
}

// ------------------------------------------------------------------ figures

export const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
export const max = (xs: number[]) => (xs.length ? Math.max(...xs) : NaN);
export function percentile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}
export const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
export const secs = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s` : 'n/a');

export type Row = { what: string; measured: string; goal: string; met?: boolean | null };

/** A Markdown table: pasted as is into bench/RESULTS.md. */
export function printTable(title: string, rows: Row[]) {
  const verdict = (m: boolean | null | undefined) => (m === undefined || m === null ? '' : m ? 'yes' : '**no**');
  console.log(`\n### ${title}\n`);
  console.log('| what | measured | goal | met |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.what} | ${r.measured} | ${r.goal} | ${verdict(r.met)} |`);
  console.log('');
}

export function printProblems(processes: FlotillaProcess[]) {
  for (const p of processes) {
    const top = [...p.problems.values()].sort((a, b) => b.count - a.count).slice(0, 8);
    if (!top.length) continue;
    console.log(`${p.label}: log lines mentioning failures (most frequent first)`);
    for (const t of top) console.log(`  ${String(t.count).padStart(6)} × ${t.example}`);
  }
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} cores (${cpu}), load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, ${Math.round(os.totalmem() / 1024 ** 3)} GiB`;
}
