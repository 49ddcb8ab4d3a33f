// Rollouts across 20 real agents, each on its own Nix store root, driven by real worker
// processes (worker.ts) that the test kills with SIGKILL: canaries stop a bad closure,
// waves never exceed maxInFlight, a killed worker loses nothing and repeats nothing,
// offline hosts catch up or are skipped, and a failure can roll every touched host back.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as deploymentById from '@/app/api/v1/deployments/[id]/route';
import * as rollbackRoute from '@/app/api/v1/deployments/[id]/rollback/route';
import * as deploymentsRoute from '@/app/api/v1/deployments/route';
import * as previewRoute from '@/app/api/v1/deployments/preview/route';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hostsRoute from '@/app/api/v1/hosts/route';
import { requestBuild } from '@/lib/builds/request-build';
import { findHost } from '@/lib/hosts/reach';
import { runBuild } from '@/lib/builds/run-build';
import { db } from '@/lib/db/client';
import { builds, deploymentTargets, hosts as hostsTable } from '@/lib/db/schema';
import { isFinalDeployment } from '@/lib/db/statuses';
import type { TDeploymentView } from '@/lib/deployments/schemas';
import { buildAgent } from '../scripts/build-agent';
import { runAgent, startHarness, until, type AgentProcess, type Harness } from './agent-harness';
import { call, makeOrg, type OrgFixture } from './fixtures';

const root = path.resolve(import.meta.dirname, '..');
const run = Math.random().toString(36).slice(2, 7);
const N = 20;
const names = Array.from({ length: N }, (_, i) => `r${run}-${String(i).padStart(2, '0')}`);
// Tagged `canary`, so the planner picks them as the canaries whatever their names.
const CANARIES = [names[7] as string, names[13] as string];

let fx: OrgFixture;
let harness: Harness;
let tmp: string;
let bundle: string;
let worker: ChildProcess | null = null;
let workerOut = '';
const agents = new Map<string, { proc: AgentProcess; stateDir: string; log: string }>();

const builder = `b${run}`;
let builderVersion = 1;
/** Builds a stand-in system on a builder host; deploy.json then sends the store path anywhere. */
async function buildSystem(extra: string, packages: string[]) {
  const module = `{ ... }: { networking.hostName = "${builder}"; ${extra} }`;
  const saved = await call(hostConfig.PUT, { method: 'PUT', token: fx.members.operator.token, params: { name: builder }, json: { module, packages, baseVersion: builderVersion } });
  expect(saved.status, JSON.stringify(saved.json)).toBe(200);
  builderVersion = saved.json.version;
  const { buildId } = await requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, builder));
  expect(await runBuild(buildId)).toBe('built');
  return (await db().select().from(builds).where(eq(builds.id, buildId)))[0]?.storePath as string;
}

function startWorker() {
  workerOut = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker.ts'], { cwd: root, env: { ...process.env, FLOTILLA_DATA_DIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d) => (workerOut += d));
  child.stderr?.on('data', (d) => (workerOut += d));
  worker = child;
  return child;
}

async function killWorker() {
  const child = worker;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  worker = null;
}

function startAgentFor(name: string) {
  const a = agents.get(name);
  if (!a) throw new Error(`no agent for ${name}`);
  a.proc = runAgent(['run', '--state-dir', a.stateDir, '--store-root', path.join(tmp, 'roots', name)], { FLOTILLA_ACTIVATION_LOG: a.log }, { bundle });
}

async function stopAgent(name: string) {
  const a = agents.get(name);
  a?.proc.child.kill('SIGKILL');
  await a?.proc.exited;
  await until(`${name} to be marked offline`, async () => !(await hostRow(name))?.online, 60_000);
}

const hostRow = async (name: string) => (await db().select().from(hostsTable).where(and(eq(hostsTable.orgId, fx.org.id), eq(hostsTable.name, name))))[0];
const activations = async (name: string) => (await readFile(agents.get(name)?.log as string, 'utf8')).split('\n').filter(Boolean);
const view = async (id: string): Promise<TDeploymentView> => (await call(deploymentById.GET, { token: fx.members.operator.token, params: { id } })).json as TDeploymentView;
const deploy = (json: unknown) => call(deploymentsRoute.POST, { method: 'POST', token: fx.members.operator.token, json });

async function finished(id: string, timeoutMs = 120_000) {
  return until(
    `deployment ${id} to finish`,
    async () => {
      const v = await view(id);
      return isFinalDeployment(v.status) ? v : undefined;
    },
    timeoutMs,
  ).catch(async (e: Error) => {
    const v = await view(id);
    const phases = v.targets.map((t) => `${t.host}:${t.phase}${t.waiting ? `(${t.waiting})` : ''}`).join(' ');
    throw new Error(`${e.message}: ${v.status} ${v.reason ?? ''}\n${phases}\nworker:\n${workerOut.slice(-3000)}`);
  });
}

/** The most targets ever between sent and finished at one moment, from the recorded timestamps. */
function maxConcurrent(v: TDeploymentView) {
  const edges = v.targets
    .filter((t) => t.sentAt)
    .flatMap((t) => [
      { at: Date.parse(t.sentAt as string), d: 1 },
      { at: t.finishedAt ? Date.parse(t.finishedAt) : Number.MAX_SAFE_INTEGER, d: -1 },
    ])
    // At equal times a finish comes before a start: the place was free again.
    .sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const e of edges) max = Math.max(max, (now += e.d));
  return max;
}

const systems = { bad: '', good: '', second: '', third: '', fourth: '', fifth: '', sixth: '' };
// A generous confirm timeout: on a loaded 2-core CI machine a confirmation may take seconds.
const ROLLOUT = { canaries: 2, maxInFlight: 5, watchSeconds: 1, confirmTimeoutSeconds: 90 };

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-rollout-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  fx = await makeOrg();
  harness = await startHarness({ driver: false });
  bundle = await buildAgent(path.join(tmp, 'flotilla-agent.mjs'));
  await call(hostsRoute.POST, { method: 'POST', token: fx.members.operator.token, json: { name: builder } });
  systems.good = await buildSystem('', ['hello']);
  systems.bad = await buildSystem('flotilla.test.failActivation = true;', ['hello', 'jq']);
  systems.second = await buildSystem('', ['hello', 'tree']);
  systems.third = await buildSystem('', ['hello', 'tree', 'jq']);
  systems.fourth = await buildSystem('', ['jq']);
  systems.fifth = await buildSystem('', ['tree']);
  systems.sixth = await buildSystem('', ['jq', 'tree']);

  await Promise.all(
    names.map(async (name) => {
      const created = await call(hostsRoute.POST, { method: 'POST', token: fx.members.operator.token, json: { name, tags: CANARIES.includes(name) ? ['canary'] : [] } });
      expect(created.status).toBe(201);
      const stateDir = path.join(tmp, 'state', name);
      const enrol = runAgent(['enroll', '--server', harness.base, '--token', created.json.enrollToken, '--state-dir', stateDir], {}, { bundle });
      expect(await enrol.exited, enrol.output()).toBe(0);
      const log = path.join(tmp, `${name}.activations`);
      await writeFile(log, '');
      agents.set(name, { proc: undefined as unknown as AgentProcess, stateDir, log });
      startAgentFor(name);
    }),
  );
  await until(
    'all agents to connect',
    async () => (await db().select().from(hostsTable).where(and(eq(hostsTable.orgId, fx.org.id), inArray(hostsTable.name, names), eq(hostsTable.online, true)))).length === N,
    60_000,
  );
  startWorker();
}, 240_000);

afterAll(async () => {
  await killWorker();
  for (const a of agents.values()) a.proc?.child.kill('SIGKILL');
  await harness?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('a rollout over 20 real agents', { timeout: 180_000 }, () => {
  it('previews which hosts go in which wave', async () => {
    const plan = await call(previewRoute.POST, { method: 'POST', token: fx.members.operator.token, json: { agents: Object.fromEntries(names.map((n) => [n, systems.good])), rollout: ROLLOUT } });
    expect(plan.status).toBe(200);
    expect(plan.json.limits).toEqual({ canaries: 2, maxInFlight: 5, maxFailures: 0 });
    expect(plan.json.waves.map((w: { hosts: { name: string }[] }) => w.hosts.length)).toEqual([2, 5, 5, 5, 3]);
    expect(plan.json.waves[0].hosts.map((h: { name: string }) => h.name).sort()).toEqual([...CANARIES].sort());
  });

  it('halts at a failing canary: no host outside the canaries is touched', async () => {
    const agentsMap = Object.fromEntries(names.map((n) => [n, n === CANARIES[0] ? systems.bad : systems.good]));
    const created = await deploy({ agents: agentsMap, rollout: ROLLOUT });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const done = await finished(created.json.id);
    expect(done.status).toBe('halted');
    expect(done.reason).toMatch(new RegExp(`Canary ${CANARIES[0]}`));
    const byHost = new Map(done.targets.map((t) => [t.host, t]));
    expect(byHost.get(CANARIES[0] as string)?.phase).toMatch(/failed|rolled-back/);
    for (const name of names.filter((n) => !CANARIES.includes(n))) {
      expect(byHost.get(name), name).toMatchObject({ phase: 'cancelled', sentAt: null, error: 'not started: the deployment halted' });
      expect(await activations(name), name).toEqual([]);
    }
  });

  it('succeeds on all 20 hosts with never more than 5 in flight', async () => {
    const created = await deploy({ agents: Object.fromEntries(names.map((n) => [n, systems.good])), rollout: ROLLOUT });
    const done = await finished(created.json.id);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    expect(done.targets.every((t) => t.phase === 'succeeded')).toBe(true);
    const peak = maxConcurrent(done);
    expect(peak).toBeLessThanOrEqual(5);
    expect(peak).toBeGreaterThan(1);
    // Canaries went first, and every other host only after the canary watch.
    const canaryDone = Math.max(...done.targets.filter((t) => t.wave === 0).map((t) => Date.parse(t.finishedAt as string)));
    const firstWave = Math.min(...done.targets.filter((t) => t.wave > 0).map((t) => Date.parse(t.sentAt as string)));
    expect(firstWave - canaryDone).toBeGreaterThanOrEqual(900);
    for (const name of names) expect((await hostRow(name))?.currentSystem).toBe(systems.good);
  });

  it('finishes with every host activated exactly once though the worker is killed -9 twice', async () => {
    const created = await deploy({ agents: Object.fromEntries(names.map((n) => [n, systems.second])), rollout: ROLLOUT });
    const succeeded = async () => (await view(created.json.id)).targets.filter((t) => t.phase === 'succeeded').length;
    await until('the first wave to land', async () => (await succeeded()) >= 3, 60_000);
    await killWorker();
    startWorker();
    await until('more hosts to land', async () => (await succeeded()) >= 10, 60_000);
    await killWorker();
    startWorker();
    const done = await finished(created.json.id);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    expect(maxConcurrent(done)).toBeLessThanOrEqual(5);
    for (const name of names) {
      expect((await activations(name)).filter((l) => l === `switch ${systems.second}`), name).toHaveLength(1);
    }
    const rows = await db().select().from(deploymentTargets).where(eq(deploymentTargets.deploymentId, created.json.id));
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
  });

  it('an offline host gets its deployment within one heartbeat of coming back', async () => {
    const away = names[3] as string;
    const some = [away, names[4] as string, names[5] as string];
    await stopAgent(away);
    const created = await deploy({ agents: Object.fromEntries(some.map((n) => [n, systems.third])), rollout: { ...ROLLOUT, canaries: 0, offlineHosts: 'wait' } });
    await until('the online hosts to finish', async () => (await view(created.json.id)).targets.filter((t) => t.phase === 'succeeded').length === 2, 60_000);
    const waiting = (await view(created.json.id)).targets.find((t) => t.host === away);
    expect(waiting).toMatchObject({ phase: 'pending', waiting: 'host offline' });
    expect((await view(created.json.id)).status).toBe('rolling');
    startAgentFor(away);
    const back = await until('the host to come back', async () => (await hostRow(away))?.online && Date.now(), 60_000);
    const done = await finished(created.json.id);
    expect(done.status).toBe('succeeded');
    const sentAt = Date.parse(done.targets.find((t) => t.host === away)?.sentAt as string);
    // One heartbeat is 15 s; a host back online is released at once (the hello wakes the driver).
    expect(sentAt - back).toBeLessThan(15_000);
    expect((await hostRow(away))?.currentSystem).toBe(systems.third);
  });

  it('with offlineHosts "skip" an offline host is skipped and reported', async () => {
    const away = names[3] as string;
    await stopAgent(away);
    const some = [away, names[4] as string];
    const created = await deploy({ agents: Object.fromEntries(some.map((n) => [n, systems.fourth])), rollout: { ...ROLLOUT, canaries: 0, offlineHosts: 'skip' } });
    const done = await finished(created.json.id);
    expect(done.status).toBe('succeeded');
    expect(done.reason).toBe('1 succeeded, 1 skipped');
    expect(done.targets.find((t) => t.host === away)).toMatchObject({ phase: 'skipped', error: 'host offline when its turn came', sentAt: null });
    startAgentFor(away);
    await until('the host to come back', async () => (await hostRow(away))?.online, 60_000);
  });

  it('rolls a whole deployment back to what each host ran before', async () => {
    const created = await deploy({ agents: Object.fromEntries(names.slice(10).map((n) => [n, systems.fifth])), rollout: { ...ROLLOUT, canaries: 1 } });
    expect((await finished(created.json.id)).status).toBe('succeeded');
    const rolled = await call(rollbackRoute.POST, { method: 'POST', token: fx.members.operator.token, params: { id: created.json.id } });
    expect(rolled.status, JSON.stringify(rolled.json)).toBe(201);
    const done = await finished(rolled.json.id);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    expect(done.source).toBe('rollback');
    expect((await view(created.json.id)).status).toBe('rolled-back');
    for (const name of names.slice(10)) expect((await hostRow(name))?.currentSystem, name).toBe(systems.second);
  });

  it('with onFailure "rollback-all" a failure past the canaries takes every touched host back', async () => {
    const some = names.slice(0, 8);
    // names[7] is a tagged canary; the rest go in waves of 3 by name, so names[6] fails in the last wave.
    const failing = names[6] as string;
    const before = new Map(await Promise.all(some.map(async (n) => [n, (await hostRow(n))?.currentSystem] as const)));
    const agentsMap = Object.fromEntries(some.map((n) => [n, n === failing ? systems.bad : systems.sixth]));
    const created = await deploy({ agents: agentsMap, rollout: { ...ROLLOUT, canaries: 1, maxInFlight: 3, onFailure: 'rollback-all' } });
    const done = await finished(created.json.id);
    expect(done.status).toBe('rolled-back');
    expect(done.reason).toMatch(new RegExp(`1 host failed \\(${failing}\\)`));
    expect(done.rolledBackBy).toBeTruthy();
    const rollback = await finished(done.rolledBackBy as string);
    expect(rollback.status, rollback.reason ?? '').toBe('succeeded');
    expect(rollback.targets.map((t) => t.host).sort()).toEqual(some.filter((n) => n !== failing).sort());
    for (const name of some) expect((await hostRow(name))?.currentSystem, name).toBe(before.get(name));
  });
});
