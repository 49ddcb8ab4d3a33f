// Declared state with a real agent on a simulated host, real Nix builds of the stand-in
// and the machine's real PostgreSQL (pg_dump/pg_restore): snapshots before a switch are
// reported; a directory restored on request comes back byte for byte; a switch that fails
// after a "migration" wrote to the database is rolled back and the database restored to
// the snapshot; a PostgreSQL data directory the new server cannot open blocks the switch.
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as deployments from '@/app/api/v1/deployments/route';
import * as decideRoute from '@/app/api/v1/deployments/[id]/targets/[targetId]/decide/route';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as restoreRoute from '@/app/api/v1/hosts/[name]/snapshots/[id]/restore/route';
import * as stateRoute from '@/app/api/v1/hosts/[name]/state/route';
import * as hosts from '@/app/api/v1/hosts/route';
import { db } from '@/lib/db/client';
import { auditEvents, deploymentTargets, hosts as hostsTable } from '@/lib/db/schema';
import { runAgent, startHarness, until, type AgentProcess, type Harness } from './agent-harness';
import { call, makeOrg, type OrgFixture } from './fixtures';
import { buildLatest, finishedDeployment, saveAndBuild } from './systems';

// The machine's PostgreSQL with client tools of the same major version (the embedded test server ships no pg_dump).
const PG = { host: '127.0.0.1', port: Number(process.env.STATE_TEST_PG_PORT ?? 5432), user: 'postgres' };
const pgReady = (() => {
  try {
    execFileSync('pg_isready', ['-h', PG.host, '-p', String(PG.port)], { stdio: 'ignore' });
    execFileSync('pg_dump', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let fx: OrgFixture;
let harness: Harness;
let tmp: string;
let agent: AgentProcess;
let dataDir: string;
let version = 1;
const run = Math.random().toString(36).slice(2, 8);
const host = `state${run}`;
const database = `flotilla_state_${run}`;
const admin = () => postgres({ ...PG, database: 'postgres', max: 1, onnotice: () => {} });
const appDb = () => postgres({ ...PG, database, max: 1, onnotice: () => {} });

const units = (extra = '') => `
  flotilla.state.db = { kind = "postgresql"; database = "${database}"; host = "${PG.host}"; port = ${PG.port}; user = "postgres"; restoreOnRollback = true; ${extra} };
  flotilla.state.files = { kind = "directory"; path = "${'$'}{DATA}"; keep = 2; };`;

async function buildSystem(body: string) {
  const built = await saveAndBuild(fx.members.operator, host, `{ ... }: { networking.hostName = "${host}"; ${body.replaceAll('${DATA}', dataDir)} }`, version);
  version = built.version;
  return built.system;
}

async function deploy(system: string) {
  const created = await call(deployments.POST, { method: 'POST', token: fx.members.operator.token, json: { agents: { [host]: system }, rollout: { canaries: 0 } } });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  return created.json.id as string;
}

const finished = (id: string) => finishedDeployment(fx.members.operator, id, () => agent.output());

const state = async () => (await call(stateRoute.GET, { token: fx.members.viewer.token, params: { name: host } })).json;

/** Every file under a directory with its bytes, mode and (for symlinks) target. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of (await readdir(dir, { recursive: true, withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const file = path.join(entry.parentPath, entry.name);
    const rel = path.relative(dir, file);
    const s = await stat(file);
    out[rel] = entry.isFile() ? `${(s.mode & 0o7777).toString(8)} ${(await readFile(file)).toString('base64')}` : `${(s.mode & 0o7777).toString(8)} dir`;
  }
  out['.'] = ((await stat(dir)).mode & 0o7777).toString(8);
  return out;
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-state-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  dataDir = path.join(tmp, 'app-data');
  await mkdir(path.join(dataDir, 'uploads', 'deep'), { recursive: true });
  await writeFile(path.join(dataDir, 'config.toml'), 'answer = 42\n');
  await writeFile(path.join(dataDir, 'uploads', 'photo.bin'), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256)));
  await writeFile(path.join(dataDir, 'uploads', 'deep', 'secret'), 'not for everyone\n', { mode: 0o600 });
  await chmod(dataDir, 0o750);
  fx = await makeOrg();
  harness = await startHarness();
  const created = await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name: host } });
  const stateDir = path.join(tmp, 'agent');
  const enrol = runAgent(['enroll', '--server', harness.base, '--token', created.json.enrollToken, '--state-dir', stateDir]);
  expect(await enrol.exited, enrol.output()).toBe(0);
  agent = runAgent(['run', '--state-dir', stateDir, '--store-root', path.join(tmp, 'root')]);
  await until('the agent to connect', async () => (await db().select().from(hostsTable).where(and(eq(hostsTable.orgId, fx.org.id), eq(hostsTable.name, host))))[0]?.online);
  if (pgReady) {
    const sql = admin();
    await sql.unsafe(`create database "${database}"`);
    await sql.end();
    const app = appDb();
    await app`create table items (id int primary key, note text not null)`;
    await app`insert into items values (1, 'before any switch'), (2, 'also before')`;
    await app.end();
  }
}, 120_000);

afterAll(async () => {
  agent?.child.kill('SIGKILL');
  await harness?.close();
  if (pgReady) {
    const sql = admin();
    await sql.unsafe(`drop database if exists "${database}" with (force)`);
    await sql.end();
  }
  await rm(tmp, { recursive: true, force: true });
});

// Skipped only on a developer machine without PostgreSQL's tools: CI has them, and fails here if they are missing.
describe.skipIf(!pgReady && !process.env.CI)('declared state', () => {
  let original: Record<string, string>;
  let firstFilesHash: string;

  it('snapshots the declared units before a switch and reports them', async () => {
    original = await tree(dataDir);
    const system = await buildSystem(units());
    const id = await deploy(system);
    expect((await finished(id)).status, agent.output()).toBe('succeeded');
    const s = await until('the snapshots to be reported', async () => {
      const v = await state();
      return v.snapshots?.length === 2 && v.units.length === 2 ? v : undefined;
    });
    expect(s.units.map((u: { name: string; kind: string }) => [u.name, u.kind])).toEqual([
      ['db', 'postgresql'],
      ['files', 'directory'],
    ]);
    for (const snap of s.snapshots) expect(snap).toMatchObject({ reason: 'pre-switch', deploymentId: id, hash: expect.stringMatching(/^[0-9a-f]{64}$/), size: expect.any(Number) });
    expect(s.snapshots.find((x: { unit: string }) => x.unit === 'db').size).toBeGreaterThan(0);
    firstFilesHash = s.snapshots.find((x: { unit: string }) => x.unit === 'files').hash;
  }, 150_000);

  it('restores a directory on request, byte for byte, after snapshotting what it replaces', async () => {
    const snapshot = (await state()).snapshots.find((x: { unit: string }) => x.unit === 'files');
    await writeFile(path.join(dataDir, 'config.toml'), 'answer = 41\n');
    await rm(path.join(dataDir, 'uploads', 'photo.bin'));
    await writeFile(path.join(dataDir, 'uploads', 'new.txt'), 'written after the snapshot\n');
    expect(await tree(dataDir)).not.toEqual(original);

    const restore = (token: string, id = snapshot.id) => call(restoreRoute.POST, { method: 'POST', token, params: { name: host, id } });
    expect((await restore(fx.members.viewer.token)).status).toBe(403);
    expect((await restore(fx.members.operator.token, crypto.randomUUID())).status).toBe(404);
    const other = await makeOrg();
    expect((await restore(other.members.operator.token)).status).toBe(404);
    const asked = await restore(fx.members.operator.token);
    expect(asked.status, JSON.stringify(asked.json)).toBe(202);

    const done = await until('the restore to finish', async () => {
      const r = (await state()).restores.find((x: { id: string }) => x.id === asked.json.id);
      return r && ['succeeded', 'failed'].includes(r.status) ? r : undefined;
    }, 60_000);
    expect(done, agent.output()).toMatchObject({ status: 'succeeded', unit: 'files', requestedBy: fx.members.operator.email });
    expect(await tree(dataDir)).toEqual(original);
    const after = await until('the pre-restore snapshot to be reported', async () => {
      const v = await state();
      return v.snapshots.some((x: { reason: string }) => x.reason === 'pre-restore') ? v : undefined;
    });
    expect(after.snapshots.filter((x: { unit: string }) => x.unit === 'files')).toHaveLength(2);
    const audit = await db().select().from(auditEvents).where(and(eq(auditEvents.orgId, fx.org.id), eq(auditEvents.action, 'state.restore')));
    expect(audit).toHaveLength(1);
  }, 120_000);

  it('rolls back a switch whose activation failed after a migration wrote to the database, and restores the database', async () => {
    const app = appDb();
    await app`insert into items values (3, 'after the first switch, before the second')`;
    const migration = `psql -h ${PG.host} -p ${PG.port} -U postgres -d ${database} -c "insert into items values (99, 'written by the failed migration')"`;
    const system = await buildSystem(`${units()} flotilla.test.activationScript = ''${migration}''; flotilla.test.failActivation = true;`);
    const before = (await db().select().from(hostsTable).where(eq(hostsTable.name, host)))[0]?.currentSystem;
    const id = await deploy(system);
    const done = await finished(id);
    // The migration did write (psql said so) before the activation failed.
    expect(done.targets[0], agent.output()).toMatchObject({ phase: 'rolled-back', rollbackReason: expect.stringMatching(/INSERT 0 1[\s\S]*flotilla.test.failActivation/) });
    const [target] = await db().select().from(deploymentTargets).where(eq(deploymentTargets.deploymentId, id));
    expect(target?.log).toMatch(/restored db from snapshot [0-9a-f-]{36} \(taken before the switch\)/);
    const rows = await app`select id from items order by id`;
    await app.end();
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3]);
    expect((await db().select().from(hostsTable).where(eq(hostsTable.name, host)))[0]?.currentSystem).toBe(before);
    // Files were snapshotted again (keep = 2 pruned the oldest) but not restored: that unit did not ask for it.
    const s = await until('the new snapshots to be reported', async () => {
      const v = await state();
      return v.snapshots.some((x: { deploymentId: string }) => x.deploymentId === id) ? v : undefined;
    });
    const files = s.snapshots.filter((x: { unit: string }) => x.unit === 'files');
    expect(files.map((x: { reason: string }) => x.reason)).toEqual(['pre-switch', 'pre-restore']);
    // Content-addressed and deterministic: the restored directory snapshots to the very bytes of the first snapshot.
    expect(files[0].hash).toBe(firstFilesHash);
    expect(files[1].hash).not.toBe(firstFilesHash);
  }, 150_000);

  it('blocks a switch to a PostgreSQL server that cannot open the data directory', async () => {
    const pgData = path.join(tmp, 'pgdata');
    await mkdir(pgData, { recursive: true });
    await writeFile(path.join(pgData, 'PG_VERSION'), '15\n');
    const system = await buildSystem(units(`dataDir = "${pgData}"; serverVersion = "16.4";`));
    const id = await deploy(system);
    const blocked = await until('the target to wait for a decision', async () => {
      const [t] = await db().select().from(deploymentTargets).where(eq(deploymentTargets.deploymentId, id));
      return t?.phase === 'needs-decision' ? t : undefined;
    }, 60_000);
    const items = blocked.checks as { id: string; level: string; message: string; resolutions: { id: string }[] }[];
    const item = items.find((i) => i.id === 'flotilla:postgresql-version:db');
    expect(item).toMatchObject({ level: 'error', message: expect.stringMatching(/made by PostgreSQL 15; the new system runs PostgreSQL 16\.4/) });
    expect(item?.resolutions.map((r) => r.id)).toEqual(['proceed', 'abort']);
    const decided = await call(decideRoute.POST, { method: 'POST', token: fx.members.operator.token, params: { id, targetId: blocked.id }, json: { choices: { [item!.id]: 'abort' } } });
    expect(decided.status).toBe(200);
    expect((await finished(id)).status).toBe('failed');

    // The same switch under a decision policy: nobody is asked, the policy's choice is stored and audited.
    const system2 = await buildSystem(units(`dataDir = "${pgData}"; serverVersion = "16.5";`));
    const created = await call(deployments.POST, {
      method: 'POST',
      token: fx.members.operator.token,
      json: { agents: { [host]: system2 }, rollout: { canaries: 0, decisions: { 'flotilla:postgresql-version:*': 'abort', 'migrate:*': 'run-migration' } } },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const byPolicy = await finished(created.json.id);
    expect(byPolicy.status).toBe('failed');
    expect(byPolicy.targets[0].error).toMatch(/stopped at the pre-switch check: The data directory/);
    const [t] = await db().select().from(deploymentTargets).where(eq(deploymentTargets.deploymentId, created.json.id));
    expect(t).toMatchObject({ decision: { 'flotilla:postgresql-version:db': 'abort' }, decidedBy: null });
    const audit = await db().select().from(auditEvents).where(and(eq(auditEvents.action, 'deployment.decide'), eq(auditEvents.objectId, t!.id)));
    expect(audit).toEqual([expect.objectContaining({ actorLabel: 'decision policy', orgId: fx.org.id })]);
  }, 150_000);
});

describe('state units in the structured settings', () => {
  it('are saved with the config, checked, and reach the closure as flotilla/state.json', async () => {
    const name = `settings${run}`;
    expect((await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name } })).status).toBe(201);
    const put = (json: object) => call(hostConfig.PUT, { method: 'PUT', token: fx.members.operator.token, params: { name }, json });
    const bad = await put({ baseVersion: 1, state: [{ kind: 'directory', name: 'up', path: 'relative/path' }] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toMatch(/absolute path/);
    const twice = await put({ baseVersion: 1, state: [{ kind: 'directory', name: 'up', path: '/a' }, { kind: 'directory', name: 'up', path: '/b' }] });
    expect(twice.status).toBe(400);
    const units = [
      { kind: 'directory', name: 'uploads', path: '/var/lib/app/uploads', keep: 3 },
      { kind: 'mysql', name: 'shop', database: 'shop', restoreOnRollback: true, service: 'mysql.service' },
    ];
    const saved = await put({ baseVersion: 1, state: units });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    const config = (await call(hostConfig.GET, { token: fx.members.viewer.token, params: { name } })).json;
    expect(config.state).toEqual([
      { kind: 'directory', name: 'uploads', path: '/var/lib/app/uploads', keep: 3, snapshot: 'every-switch', restoreOnRollback: false },
      { kind: 'mysql', name: 'shop', database: 'shop', restoreOnRollback: true, service: 'mysql.service', snapshot: 'every-switch', keep: 5 },
    ]);
    const storePath = await buildLatest(fx.members.operator, name);
    const shipped = JSON.parse(await readFile(path.join(storePath, 'flotilla', 'state.json'), 'utf8'));
    expect(shipped.units).toEqual(expect.arrayContaining(config.state.map((u: object) => expect.objectContaining(u))));
    expect(shipped.units).toHaveLength(2);
  }, 120_000);
});
