// Snapshot kinds and policies against real tools: MariaDB through mysqldump and mysql,
// directories through tar and zstd, systems laid out as toplevels with state.json.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TStateUnitInput } from '@/lib/agents/protocol';
import { ZStateUnit } from '@/lib/agents/protocol';
import { StateKeeper } from './keeper';
import { SnapshotStore } from './store';
import { restoreSnapshot, snapshotUnit, unitsToSnapshot } from './units';

const MYSQL = { host: '127.0.0.1', port: 3306, user: 'root' };
const mysqlReady = (() => {
  try {
    execFileSync('mysql', ['-h', MYSQL.host, '-P', String(MYSQL.port), '-u', MYSQL.user, '-e', 'select 1'], { stdio: 'ignore' });
    execFileSync('mysqldump', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const mysql = (sql: string, database?: string) =>
  execFileSync('mysql', ['-h', MYSQL.host, '-P', String(MYSQL.port), '-u', MYSQL.user, '-N', '-B', ...(database ? [database] : []), '-e', sql], { encoding: 'utf8' }).trim();

let tmp: string;
let store: SnapshotStore;
const paths = { storeRoot: null, profile: '/nix/var/nix/profiles/system' };
const meta = { generation: null, reason: 'manual' as const, deploymentId: null, targetId: null };
const log = () => {};

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-units-'));
  store = new SnapshotStore(path.join(tmp, 'agent'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

// Skipped only on a developer machine without MariaDB: CI installs and runs it, and fails here if it is missing.
describe.skipIf(!mysqlReady && !process.env.CI)('a MySQL/MariaDB unit', () => {
  const database = `flotilla_units_${Math.random().toString(36).slice(2, 8)}`;
  afterAll(() => {
    mysql(`drop database if exists ${database}`);
  });

  it('snapshots with mysqldump and restores the rows of the snapshot', async () => {
    mysql(`create database ${database}`);
    mysql('create table orders (id int primary key, item varchar(50)); insert into orders values (1, "anchor"), (2, "rope");', database);
    const unit = ZStateUnit.parse({ kind: 'mysql', name: 'shop', database, ...MYSQL } satisfies TStateUnitInput);
    const snapshot = await snapshotUnit(store, unit, meta);
    expect(snapshot).toMatchObject({ unit: 'shop', kind: 'mysql', size: expect.any(Number) });
    mysql('insert into orders values (3, "sail"); delete from orders where id = 1; create table later (x int);', database);
    await restoreSnapshot(store, snapshot, paths, log);
    expect(mysql('select id, item from orders order by id', database)).toBe('1\tanchor\n2\trope');
  });
});

describe('a directory unit', () => {
  it('refuses a snapshot whose bytes no longer match their hash, and leaves the directory alone', async () => {
    const dir = path.join(tmp, 'data');
    await mkdir(dir);
    await writeFile(path.join(dir, 'a'), 'one');
    const unit = ZStateUnit.parse({ kind: 'directory', name: 'data', path: dir });
    const snapshot = await snapshotUnit(store, unit, meta);
    await writeFile(store.blobPath(snapshot.hash), 'tampered');
    await writeFile(path.join(dir, 'a'), 'two');
    await expect(restoreSnapshot(store, snapshot, paths, log)).rejects.toThrow(/damaged/);
    expect(execFileSync('cat', [path.join(dir, 'a')], { encoding: 'utf8' })).toBe('two');
  });

  it('a restore asked again is answered, not repeated; one cut short by an agent restart is reported failed', async () => {
    const dir = path.join(tmp, 'again');
    await mkdir(dir);
    await writeFile(path.join(dir, 'f'), 'v1');
    const keeper = new StateKeeper(path.join(tmp, 'keeper-again'), paths, log);
    const snapshot = await snapshotUnit(keeper.store, ZStateUnit.parse({ kind: 'directory', name: 'again', path: dir }), meta);
    const statuses: string[] = [];
    const status = (s: string, m: string) => void statuses.push(`${s}: ${m.split(';')[0]}`);
    const restoreId = crypto.randomUUID();
    await writeFile(path.join(dir, 'f'), 'v2');
    await keeper.restoreRequested(restoreId, snapshot.id, null, status);
    await writeFile(path.join(dir, 'f'), 'v3');
    await keeper.restoreRequested(restoreId, snapshot.id, null, status);
    expect(execFileSync('cat', [path.join(dir, 'f')], { encoding: 'utf8' })).toBe('v3');
    expect(statuses.map((s) => s.split(':')[0])).toEqual(['running', 'succeeded', 'succeeded']);
    // The record an agent leaves when it dies mid-restore.
    const cut = crypto.randomUUID();
    await writeFile(path.join(tmp, 'keeper-again', 'restores', `${cut}.json`), JSON.stringify({ restoreId: cut, status: 'running', message: '' }));
    await keeper.restoreRequested(cut, snapshot.id, null, status);
    expect(statuses.at(-1)).toMatch(/^failed: the agent stopped during the restore/);
  });

  it('is refused when the path is not a directory, with nothing left in the store', async () => {
    const unit = ZStateUnit.parse({ kind: 'directory', name: 'gone', path: path.join(tmp, 'missing') });
    const before = (await store.list()).length;
    await expect(snapshotUnit(store, unit, meta)).rejects.toThrow(/is not a directory/);
    expect(await store.list()).toHaveLength(before);
  });
});

describe('snapshot policies', () => {
  /** A toplevel as the agent reads it: flotilla/state.json and systemd units linked into etc. */
  async function system(name: string, units: TStateUnitInput[], services: Record<string, string>) {
    const top = path.join(tmp, 'systems', name);
    await mkdir(path.join(top, 'flotilla'), { recursive: true });
    await mkdir(path.join(top, 'etc', 'systemd', 'system'), { recursive: true });
    await writeFile(path.join(top, 'flotilla', 'state.json'), JSON.stringify({ units }));
    for (const [service, file] of Object.entries(services)) await symlink(file, path.join(top, 'etc', 'systemd', 'system', service));
    return top;
  }

  it('every-switch always, never never, service-change only when the service unit differs; units only the new system declares too', async () => {
    const unitFiles = path.join(tmp, 'unit-files');
    await mkdir(unitFiles, { recursive: true });
    for (const f of ['app-v1', 'app-v2', 'db-v1']) await writeFile(path.join(unitFiles, f), f);
    const units: TStateUnitInput[] = [
      { kind: 'directory', name: 'always', path: '/srv/a' },
      { kind: 'directory', name: 'off', path: '/srv/b', snapshot: 'never' },
      { kind: 'directory', name: 'app', path: '/srv/c', snapshot: 'service-change', service: 'app.service' },
      { kind: 'directory', name: 'db', path: '/srv/d', snapshot: 'service-change', service: 'db.service' },
    ];
    const current = await system('current', units, { 'app.service': path.join(unitFiles, 'app-v1'), 'db.service': path.join(unitFiles, 'db-v1') });
    const next = await system('next', [...units, { kind: 'directory', name: 'fresh', path: '/srv/e' }], {
      'app.service': path.join(unitFiles, 'app-v2'),
      'db.service': path.join(unitFiles, 'db-v1'),
    });
    expect((await unitsToSnapshot(paths, current, next)).map((u) => u.name)).toEqual(['always', 'app', 'fresh']);
    // The first deployment on a host: nothing to compare with, so service-change snapshots too.
    expect((await unitsToSnapshot(paths, null, next)).map((u) => u.name)).toEqual(['always', 'app', 'db', 'fresh']);
  });

  it('skips data that does not exist yet, but fails the switch when data the running system declares cannot be dumped', async () => {
    const keeper = new StateKeeper(path.join(tmp, 'keeper'), paths, () => {});
    const deploy = (storePath: string) => ({ type: 'deploy' as const, id: 'x', deploymentId: crypto.randomUUID(), targetId: crypto.randomUUID(), storePath, action: 'switch' as const, confirmTimeoutSeconds: 60, switchTimeoutSeconds: 60, healthChecks: [] });
    const unreachable = { kind: 'postgresql' as const, name: 'db', database: 'nope', host: '127.0.0.1', port: 1 };
    const first = await system('first', [{ kind: 'directory', name: 'later', path: path.join(tmp, 'not-yet') }, unreachable], {});
    // First deployment: the new system's units have no data yet, so nothing is taken and nothing fails.
    expect(await keeper.beforeSwitch(deploy(first), null)).toEqual([]);
    await expect(keeper.beforeSwitch(deploy(first), first)).rejects.toThrow(/snapshot of db failed/);
  });
});
