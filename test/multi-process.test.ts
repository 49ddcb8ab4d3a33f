// Two server processes on one PostgreSQL: an agent connected to process A receives a
// deployment started in process B (this one), through NOTIFY.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
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
import { resetEnvCache } from '@/lib/env';
import { isFinalDeployment } from '@/lib/db/statuses';
import { runAgent, startHarnessProcess, until, type AgentProcess } from './agent-harness';
import { call, makeOrg, type OrgFixture } from './fixtures';

let fx: OrgFixture;
let tmp: string;
let processA: ChildProcess;
let baseA: string;
let agent: AgentProcess;
const host = `mp${Math.random().toString(36).slice(2, 8)}`;

/** The agent-facing server in a process of its own; `port` brings it back on the same address. */
const startProcessA = (port?: number) => startHarnessProcess({ port });

async function buildFor(name: string, module: string, packages: string[], baseVersion: number) {
  await call(hostConfig.PUT, { method: 'PUT', token: fx.members.operator.token, params: { name }, json: { module, packages, baseVersion } });
  const { buildId } = await requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, name));
  expect(await runBuild(buildId)).toBe('built');
  return (await db().select().from(builds).where(eq(builds.id, buildId)))[0]?.storePath as string;
}

const finished = (id: string) =>
  until(
    'the deployment to finish',
    async () => {
      const v = (await call(deploymentById.GET, { token: fx.members.operator.token, params: { id } })).json;
      return isFinalDeployment(v.status) ? v : undefined;
    },
    60_000,
  );

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-multi-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  resetEnvCache();
  fx = await makeOrg();
  ({ child: processA, base: baseA } = await startProcessA());
  // This process (B) hands out the cache URL of process A, where the agent is.
  process.env.FLOTILLA_URL = baseA;
  resetEnvCache();
}, 60_000);

afterAll(async () => {
  agent?.child.kill('SIGKILL');
  processA?.kill('SIGTERM');
  await rm(tmp, { recursive: true, force: true });
});

describe('two server processes', () => {
  it('deliver a deployment started in one to an agent connected to the other', { timeout: 90_000 }, async () => {
    const created = await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name: host } });
    await call(hostConfig.PUT, { method: 'PUT', token: fx.members.operator.token, params: { name: host }, json: { packages: ['hello'], baseVersion: 1 } });
    const { buildId } = await requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, host));
    expect(await runBuild(buildId)).toBe('built');
    const storePath = (await db().select().from(builds).where(eq(builds.id, buildId)))[0]?.storePath as string;

    const stateDir = path.join(tmp, 'state');
    const enrol = runAgent(['enroll', '--server', baseA, '--token', created.json.enrollToken, '--state-dir', stateDir]);
    expect(await enrol.exited, enrol.output()).toBe(0);
    agent = runAgent(['run', '--state-dir', stateDir, '--store-root', path.join(tmp, 'root')]);
    await until('the agent on process A', async () => (await db().select().from(hostsTable).where(and(eq(hostsTable.orgId, fx.org.id), eq(hostsTable.name, host))))[0]?.online);

    // Started here, in process B, which holds no socket for this host.
    const deployment = await call(deployments.POST, { method: 'POST', token: fx.members.operator.token, json: { agents: { [host]: storePath } } });
    expect(deployment.status).toBe(201);
    const done = await until('the deployment to finish', async () => {
      const v = (await call(deploymentById.GET, { token: fx.members.operator.token, params: { id: deployment.json.id } })).json;
      return isFinalDeployment(v.status) ? v : undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}\nagent:\n${agent.output()}`);
    });
    expect(done.targets[0]).toMatchObject({ phase: 'succeeded', storePath });
  });

  it('an agent whose server dies before confirming rolls back by itself and reports it when a server is back', { timeout: 120_000 }, async () => {
    const activations = path.join(tmp, 'activations.log');
    const { writeFile, readFile } = await import('node:fs/promises');
    await writeFile(activations, '');
    const name = `${host}-b`;
    const created = await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name } });
    const good = await buildFor(name, `{ ... }: { networking.hostName = "${name}"; }`, ['hello'], 1);
    const slow = await buildFor(name, `{ ... }: { networking.hostName = "${name}"; flotilla.test.activationDelaySeconds = 3; }`, ['hello', 'fd'], 2);
    const stateDir = path.join(tmp, 'state-b');
    expect(await runAgent(['enroll', '--server', baseA, '--token', created.json.enrollToken, '--state-dir', stateDir]).exited).toBe(0);
    const b = runAgent(['run', '--state-dir', stateDir, '--store-root', path.join(tmp, 'root-b')], { FLOTILLA_ACTIVATION_LOG: activations });
    try {
      const online = async () => (await db().select().from(hostsTable).where(and(eq(hostsTable.orgId, fx.org.id), eq(hostsTable.name, name))))[0]?.online;
      await until('agent b online', online);
      const first = await call(deployments.POST, { method: 'POST', token: fx.members.operator.token, json: { agents: { [name]: good } } });
      expect((await finished(first.json.id)).targets[0].phase).toBe('succeeded');

      const second = await call(deployments.POST, { method: 'POST', token: fx.members.operator.token, json: { agents: { [name]: slow }, rollout: { confirmTimeoutSeconds: 5 } } });
      expect(second.status).toBe(201);
      // The switch is running (it takes 3 s): the server goes away before it can confirm.
      await until('the slow switch', async () => (await readFile(activations, 'utf8')).includes(`switch ${slow}`));
      const port = Number(new URL(baseA).port);
      processA.kill('SIGKILL');
      await until('the agent to roll back', async () => (await readFile(activations, 'utf8')).trim().endsWith(`switch ${good}`), 30_000);
      // A server is back: the agent reconnects and its hello carries the result.
      ({ child: processA } = await startProcessA(port));
      const done = await finished(second.json.id);
      expect(done.targets[0]).toMatchObject({ phase: 'rolled-back', rollbackReason: expect.stringMatching(/did not confirm within 5 s/) });
      expect(b.output()).toMatch(/waiting|reconnecting/);
    } finally {
      b.child.kill('SIGKILL');
    }
  });
});
