// A deployment from the API to a real agent process on a simulated host: the gateway
// delivers it, the agent fetches, switches and reports, the server confirms.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as deploymentById from '@/app/api/v1/deployments/[id]/route';
import * as deployments from '@/app/api/v1/deployments/route';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hosts from '@/app/api/v1/hosts/route';
import { requestBuild } from '@/lib/builds/request-build';
import { findHost } from '@/lib/hosts/reach';
import { runBuild } from '@/lib/builds/run-build';
import { db } from '@/lib/db/client';
import { builds, hosts as hostsTable } from '@/lib/db/schema';
import { isFinalDeployment } from '@/lib/db/statuses';
import { runAgent, startHarness, until, type AgentProcess, type Harness } from './agent-harness';
import { call, makeOrg, type OrgFixture } from './fixtures';

let fx: OrgFixture;
let harness: Harness;
let tmp: string;
let agent: AgentProcess;
const run = Math.random().toString(36).slice(2, 8);
const host = `dep${run}`;
let version = 1;
const systems = { good: '', failing: '', slow: '' };
let activations: string;
let stateDir: string;
const startAgent = () => runAgent(['run', '--state-dir', stateDir, '--store-root', path.join(tmp, 'root')], { FLOTILLA_ACTIVATION_LOG: activations });

async function buildSystem(module: string, packages: string[]) {
  const saved = await call(hostConfig.PUT, { method: 'PUT', token: fx.members.operator.token, params: { name: host }, json: { module, packages, baseVersion: version } });
  version = saved.json.version;
  const { buildId } = await requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, host));
  expect(await runBuild(buildId)).toBe('built');
  return (await db().select().from(builds).where(eq(builds.id, buildId)))[0]?.storePath as string;
}

const deploy = (agents: Record<string, string>) => call(deployments.POST, { method: 'POST', token: fx.members.operator.token, json: { agents, rollout: { confirmTimeoutSeconds: 10 } } });
const view = async (id: string) => (await call(deploymentById.GET, { token: fx.members.operator.token, params: { id } })).json;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-deploy-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  fx = await makeOrg();
  harness = await startHarness();
  const created = await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name: host } });
  systems.good = await buildSystem(`{ ... }: { networking.hostName = "${host}"; }`, ['hello']);
  systems.failing = await buildSystem(`{ ... }: { networking.hostName = "${host}"; flotilla.test.failActivation = true; }`, ['hello', 'jq']);
  systems.slow = await buildSystem(`{ ... }: { networking.hostName = "${host}"; flotilla.test.activationDelaySeconds = 30; }`, ['hello', 'tree']);
  stateDir = path.join(tmp, 'state');
  const enrol = runAgent(['enroll', '--server', harness.base, '--token', created.json.enrollToken, '--state-dir', stateDir]);
  expect(await enrol.exited, enrol.output()).toBe(0);
  activations = path.join(tmp, 'activations.log');
  await writeFile(activations, '');
  agent = startAgent();
  await until('the agent to connect', async () => (await db().select().from(hostsTable).where(and(eq(hostsTable.orgId, fx.org.id), eq(hostsTable.name, host))))[0]?.online);
}, 120_000);

afterAll(async () => {
  agent?.child.kill('SIGKILL');
  await harness?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('deploying to a real agent', () => {
  it('refuses unknown hosts and paths the cache does not hold, before anything is sent', async () => {
    const unknown = await deploy({ 'no-such-host': systems.good });
    expect(unknown.status).toBe(422);
    expect(unknown.json.error.details).toEqual({ unknownHosts: ['no-such-host'] });
    const elsewhere = `/nix/store/${'0'.repeat(32)}-nixos-system-elsewhere`;
    const notCached = await deploy({ [host]: elsewhere });
    expect(notCached.status).toBe(422);
    expect(notCached.json.error.details).toEqual({ notInCache: [elsewhere] });
    expect((await call(deployments.POST, { method: 'POST', token: fx.members.operator.token, json: { agents: { [host]: '/tmp/evil' } } })).status).toBe(400);
  });

  it('activates a good closure, confirmed by the server, and the host shows it current', async () => {
    const created = await deploy({ [host]: systems.good });
    expect(created.status).toBe(201);
    const done = await until('the deployment to finish', async () => {
      const v = await view(created.json.id);
      return isFinalDeployment(v.status) ? v : undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}\nagent:\n${agent.output()}`);
    });
    expect(done, agent.output()).toMatchObject({ status: 'succeeded', targets: [{ host, phase: 'succeeded', storePath: systems.good }] });
    const [row] = await db().select().from(hostsTable).where(eq(hostsTable.name, host));
    expect(row?.currentSystem).toBe(systems.good);
    expect((await readFile(activations, 'utf8')).trim().split('\n')).toEqual([`switch ${systems.good}`]);
  });

  it('reports a rollback with its reason when the switch fails', async () => {
    const created = await deploy({ [host]: systems.failing });
    const done = await until('the deployment to finish', async () => {
      const v = await view(created.json.id);
      return isFinalDeployment(v.status) ? v : undefined;
    });
    expect(done.status).toBe('failed');
    expect(done.targets[0]).toMatchObject({ phase: 'rolled-back', rollbackReason: expect.stringMatching(/failActivation/) });
    const [row] = await db().select().from(hostsTable).where(eq(hostsTable.name, host));
    expect(row?.currentSystem).toBe(systems.good);
  });

  it('an agent killed during a switch comes back on its previous system, reports it once, and never runs the switch again', async () => {
    const created = await deploy({ [host]: systems.slow });
    await until('the slow switch to start', async () => (await readFile(activations, 'utf8')).includes(`switch ${systems.slow}`));
    agent.child.kill('SIGKILL');
    await agent.exited;
    agent = startAgent();
    const done = await until('the deployment to finish', async () => {
      const v = await view(created.json.id);
      return isFinalDeployment(v.status) ? v : undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}\nagent:\n${agent.output()}`);
    });
    expect(done.targets[0]).toMatchObject({ phase: 'rolled-back', rollbackReason: expect.stringMatching(/stopped during the activation/) });
    const lines = (await readFile(activations, 'utf8')).trim().split('\n');
    expect(lines.filter((l) => l === `switch ${systems.slow}`)).toHaveLength(1);
    expect(lines.at(-1)).toBe(`switch ${systems.good}`);
    const [row] = await db().select().from(hostsTable).where(eq(hostsTable.name, host));
    expect(row?.currentSystem).toBe(systems.good);
    expect(agent.output()).toMatch(/recovered target .*: rolled-back/);
  });
});
