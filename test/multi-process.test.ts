// Two server processes on one PostgreSQL: an agent connected to process A receives a
// deployment started in process B (this one), through NOTIFY.
import { spawn, type ChildProcess } from 'node:child_process';
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
import { runBuild } from '@/lib/builds/run-build';
import { db } from '@/lib/db/client';
import { builds, hosts as hostsTable } from '@/lib/db/schema';
import { resetEnvCache } from '@/lib/env';
import { runAgent, until, type AgentProcess } from './agent-harness';
import { call, makeOrg, type OrgFixture } from './fixtures';

const root = path.resolve(import.meta.dirname, '..');
let fx: OrgFixture;
let tmp: string;
let processA: ChildProcess;
let baseA: string;
let agent: AgentProcess;
const host = `mp${Math.random().toString(36).slice(2, 8)}`;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-multi-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  resetEnvCache();
  fx = await makeOrg();
  processA = spawn(process.execPath, ['--import', 'tsx', 'test/harness-server.ts'], { cwd: root, env: process.env, stdio: ['ignore', 'pipe', 'inherit'] });
  baseA = await new Promise<string>((resolve, reject) => {
    let out = '';
    processA.stdout?.on('data', (d) => {
      out += d;
      const ready = /READY (\S+)/.exec(out);
      if (ready) resolve(ready[1] as string);
    });
    processA.once('exit', (code) => reject(new Error(`process A exited (${code})`)));
  });
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
    const { buildId } = await requestBuild(fx.members.operator.caller, host);
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
      return v.status !== 'rolling' ? v : undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}\nagent:\n${agent.output()}`);
    });
    expect(done.targets[0]).toMatchObject({ phase: 'succeeded', storePath });
  });
});
