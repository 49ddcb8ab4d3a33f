// Dumping and restoring each kind of state unit:
//   directory   tar (sorted, numeric owners) | zstd; restored beside the original and swapped in
//   postgresql  pg_dump -Fc; restored with pg_restore --clean in one transaction
//   mysql       mysqldump --single-transaction | zstd; restored by feeding it to mysql
// The service a unit names is stopped around a restore where systemd runs this host.
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ZStateFile, type TStateUnit } from '@/lib/agents/protocol';
import type { SystemPaths } from '../system';
import { runChain, sha256File, type Command } from './processes';
import type { SnapshotStore, StoredSnapshot } from './store';

const run = promisify(execFile);

/** The units a system declares (`$toplevel/flotilla/state.json`); none when it declares none or the file is unreadable. */
export async function declaredUnits(paths: SystemPaths, system: string | null): Promise<TStateUnit[]> {
  if (!system) return [];
  const text = await fs.readFile(path.join(paths.storeRoot ?? '/', system, 'flotilla', 'state.json'), 'utf8').catch(() => null);
  if (text === null) return [];
  const parsed = ZStateFile.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${system}/flotilla/state.json is not a valid state declaration: ${parsed.error.issues[0]?.message}`);
  return parsed.data.units;
}

const tool = (u: { bin?: string }, name: string) => (u.bin ? path.join(u.bin, name) : name);

function pgArgs(u: Extract<TStateUnit, { kind: 'postgresql' }>) {
  return [...(u.host ? ['-h', u.host] : []), ...(u.port ? ['-p', String(u.port)] : []), ...(u.user ? ['-U', u.user] : [])];
}

function pgEnv(u: Extract<TStateUnit, { kind: 'postgresql' }>) {
  return u.passFile ? { PGPASSFILE: u.passFile } : undefined;
}

function mysqlArgs(u: Extract<TStateUnit, { kind: 'mysql' }>) {
  // --defaults-extra-file must come first.
  return [
    ...(u.defaultsFile ? [`--defaults-extra-file=${u.defaultsFile}`] : []),
    ...(u.host ? ['-h', u.host] : []),
    ...(u.port ? ['-P', String(u.port)] : []),
    ...(u.user ? ['-u', u.user] : []),
  ];
}

function dumpCommands(u: TStateUnit): Command[] {
  switch (u.kind) {
    case 'directory':
      return [{ argv: ['tar', '--sort=name', '--numeric-owner', '-C', u.path, '-cf', '-', '.'] }, { argv: ['zstd', '-q', '-c'] }];
    case 'postgresql':
      return [{ argv: [tool(u, 'pg_dump'), '-Fc', ...pgArgs(u), '-d', u.database], runAs: u.runAs, env: pgEnv(u) }];
    case 'mysql':
      return [{ argv: [tool(u, 'mysqldump'), ...mysqlArgs(u), '--single-transaction', '--routines', '--triggers', u.database], runAs: u.runAs }, { argv: ['zstd', '-q', '-c'] }];
  }
}

/** Dumps a unit into the store. */
/** A directory unit whose directory does not exist (yet): nothing there to lose. */
export async function missingDirectory(u: TStateUnit) {
  return u.kind === 'directory' && (await fs.stat(u.path).then(() => false, (e: NodeJS.ErrnoException) => e.code === 'ENOENT'));
}

export async function snapshotUnit(store: SnapshotStore, u: TStateUnit, meta: Omit<Parameters<SnapshotStore['commit']>[3], 'definition'>): Promise<StoredSnapshot> {
  if (u.kind === 'directory' && !(await fs.stat(u.path).then((s) => s.isDirectory(), () => false))) {
    throw new Error(`${u.path} is not a directory`);
  }
  const file = await store.scratch();
  const r = await runChain(dumpCommands(u), { output: file });
  if (!r.ok || !r.sha256) {
    await fs.rm(file, { force: true });
    throw new Error(`snapshot of ${u.name} failed: ${r.error}`);
  }
  return store.commit(file, r.sha256, r.size, { ...meta, definition: u });
}

async function restoreDirectory(u: Extract<TStateUnit, { kind: 'directory' }>, blob: string) {
  const target = u.path.replace(/\/+$/, '');
  const staging = `${target}.flotilla-restore-${randomUUID().slice(0, 8)}`;
  const old = `${target}.flotilla-old-${randomUUID().slice(0, 8)}`;
  await fs.mkdir(staging, { recursive: true, mode: 0o700 });
  // Unpacked beside the original (same filesystem) and swapped in: never half a directory.
  const r = await runChain([{ argv: ['zstd', '-q', '-d', '-c'] }, { argv: ['tar', '--numeric-owner', '-p', '-x', '-C', staging, '-f', '-'] }], { input: blob });
  if (!r.ok) {
    await fs.rm(staging, { recursive: true, force: true });
    throw new Error(r.error);
  }
  const existed = await fs.rename(target, old).then(() => true, (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? false : Promise.reject(e)));
  await fs.rename(staging, target);
  if (existed) await fs.rm(old, { recursive: true, force: true });
}

function restoreCommands(u: Exclude<TStateUnit, { kind: 'directory' }>): Command[] {
  if (u.kind === 'postgresql') {
    // One transaction: the database is either the snapshot's or untouched.
    return [{ argv: [tool(u, 'pg_restore'), '--clean', '--if-exists', '--single-transaction', '--exit-on-error', ...pgArgs(u), '-d', u.database], runAs: u.runAs, env: pgEnv(u) }];
  }
  return [{ argv: ['zstd', '-q', '-d', '-c'] }, { argv: [tool(u, 'mysql'), ...mysqlArgs(u), u.database], runAs: u.runAs }];
}

/** Where systemd manages this machine (not a simulated host), a unit's service can be stopped around a restore. */
async function systemdRuns(paths: SystemPaths) {
  return !paths.storeRoot && (await fs.stat('/run/systemd/system').then(() => true, () => false));
}

async function withServiceStopped<T>(paths: SystemPaths, service: string | undefined, log: (line: string) => void, work: () => Promise<T>): Promise<T> {
  if (!service) return work();
  if (!(await systemdRuns(paths))) {
    log(`not stopping ${service}: systemd does not manage this host`);
    return work();
  }
  const active = await run('systemctl', ['is-active', '--quiet', service]).then(() => true, () => false);
  if (active) await run('systemctl', ['stop', service]);
  try {
    return await work();
  } finally {
    if (active) await run('systemctl', ['start', service]).catch((e: Error) => log(`starting ${service} again failed: ${e.message}`));
  }
}

/** Restores a snapshot over its unit, after checking the stored bytes still have the hash they are filed under. */
export async function restoreSnapshot(store: SnapshotStore, snapshot: StoredSnapshot, paths: SystemPaths, log: (line: string) => void) {
  const blob = store.blobPath(snapshot.hash);
  const actual = await sha256File(blob).catch(() => null);
  if (actual !== snapshot.hash) throw new Error(actual ? `snapshot ${snapshot.id} is damaged (its bytes no longer match their hash)` : `snapshot ${snapshot.id} has no data on this host`);
  const u = snapshot.definition;
  await withServiceStopped(paths, u.service, log, async () => {
    if (u.kind === 'directory') return restoreDirectory(u, blob);
    const r = await runChain(restoreCommands(u), { input: blob });
    if (!r.ok) throw new Error(r.error);
  });
}

/** The unit file of a service in a system, resolved to its store path (equal paths: the service did not change). */
async function serviceUnit(paths: SystemPaths, system: string, service: string) {
  const file = path.join(paths.storeRoot ?? '/', system, 'etc', 'systemd', 'system', service);
  return fs.realpath(file).catch(() => null);
}

/**
 * The units to snapshot before switching from `current` to `next`: what the running
 * system declares (its definition describes the data as it is now) and what only the
 * new one declares, each as its snapshot policy says.
 */
export async function unitsToSnapshot(paths: SystemPaths, current: string | null, next: string): Promise<(TStateUnit & { declaredNow: boolean })[]> {
  const now = await declaredUnits(paths, current);
  const coming = await declaredUnits(paths, next);
  const units = [...now.map((u) => ({ ...u, declaredNow: true })), ...coming.filter((c) => !now.some((n) => n.name === c.name)).map((u) => ({ ...u, declaredNow: false }))];
  const chosen: (TStateUnit & { declaredNow: boolean })[] = [];
  for (const u of units) {
    if (u.snapshot === 'never') continue;
    if (u.snapshot === 'service-change' && u.service && current) {
      const [before, after] = await Promise.all([serviceUnit(paths, current, u.service), serviceUnit(paths, next, u.service)]);
      if (before === after) continue;
    }
    chosen.push(u);
  }
  return chosen;
}
