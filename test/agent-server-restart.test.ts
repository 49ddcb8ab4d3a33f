// The agent survives its server: the server process is killed (kill -9) while the agent
// is in the middle of a long switch. The agent reconnects, says in hello that the
// activation still runs, and the new server follows it: no rollback, one switch, the
// target succeeds, confirmed by the new server even though the agent reached
// `confirming` while no server was there to hear it.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetEnvCache } from '@/lib/env';
import { startHarnessProcess, until } from './agent-harness';
import { makeOrg } from './fixtures';
import { SimulatedHost } from './simulated-host';

let tmp: string;
let server: ChildProcess;
let base: string;
let sim: SimulatedHost;
const systems = { good: '', slow: '', slower: '' };

const deploy = (system: string, confirmTimeoutSeconds: number) => sim.deploy(system, { confirmTimeoutSeconds });
const ended = (deploymentId: string) => sim.ended(deploymentId, 90_000);
const connections = () => sim.agent.output().match(/connected as /g)?.length ?? 0;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-server-restart-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  resetEnvCache();
  const fx = await makeOrg();
  ({ child: server, base } = await startHarnessProcess());
  process.env.FLOTILLA_URL = base;
  resetEnvCache();
  sim = await SimulatedHost.create({ name: `rst${Math.random().toString(36).slice(2, 8)}`, operator: fx.members.operator, dir: tmp, server: base });
  systems.good = await sim.build('');
  systems.slow = await sim.build('flotilla.test.activationDelaySeconds = 5;');
  systems.slower = await sim.build('flotilla.test.activationDelaySeconds = 12;');
  expect((await ended(await deploy(systems.good, 20))).phase).toBe('succeeded');
}, 180_000);

afterAll(async () => {
  sim?.agent.child.kill('SIGKILL');
  server?.kill('SIGKILL');
  await rm(tmp, { recursive: true, force: true });
});

async function killServer() {
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGKILL');
  await exited;
}

describe('the server killed during a long switch', () => {
  it('the switch finishes while no server is there; the new one confirms it and nothing rolls back', { timeout: 120_000 }, async () => {
    const deploymentId = await deploy(systems.slow, 30);
    await until('the slow switch to start', async () => (await sim.lines()).includes(`switch ${systems.slow}`));
    await killServer();
    // The agent ends its switch and waits for a confirmation no server heard it ask for.
    await until('the agent to wait for the confirmation', async () => (await sim.journal()).some((e) => e.storePath === systems.slow && e.step === 'confirming'));
    ({ child: server } = await startHarnessProcess({ port: Number(new URL(base).port) }));
    const target = await ended(deploymentId);
    expect(target.phase, `${target.rollbackReason}\n${sim.agent.output()}`).toBe('succeeded');
    expect(target.log).toMatch(/the agent reconnected, still confirming/);
    const all = await sim.lines();
    expect(all.filter((l) => l === `switch ${systems.slow}`)).toHaveLength(1);
    expect(all.at(-1)).toBe(`switch ${systems.slow}`);
    expect(sim.agent.output()).not.toMatch(/rolling back/);
    // One activation of that system in the journal, finished once.
    expect((await sim.journal()).filter((e) => e.storePath === systems.slow)).toMatchObject([{ step: 'done', outcome: 'succeeded' }]);
    expect((await sim.row())?.currentSystem).toBe(systems.slow);
  });

  it('back while the switch still runs, the new server follows the activation and does not send it again', { timeout: 120_000 }, async () => {
    const deploymentId = await deploy(systems.slower, 30);
    await until('the slower switch to start', async () => (await sim.lines()).includes(`switch ${systems.slower}`));
    const before = connections();
    await killServer();
    ({ child: server } = await startHarnessProcess({ port: Number(new URL(base).port) }));
    await until('the agent to reconnect', async () => connections() > before, 30_000);
    const [entry] = (await sim.journal()).filter((e) => e.storePath === systems.slower);
    // Still switching when it reconnected: hello said so, and the server moved nothing.
    expect(entry?.outcome).toBeNull();
    // Progress lines wait in the row's `progress` until the result moves them into the log.
    await until('the server to follow the activation', async () => (await sim.target(deploymentId))?.progress?.includes('the agent reconnected, still activating'));
    expect((await sim.target(deploymentId))?.phase).toBe('activating');
    const target = await ended(deploymentId);
    expect(target.phase, `${target.rollbackReason}\n${sim.agent.output()}`).toBe('succeeded');
    expect(target.attempts).toBe(1);
    expect((await sim.lines()).filter((l) => l === `switch ${systems.slower}`)).toHaveLength(1);
    expect(sim.agent.output()).not.toMatch(/rolling back|already running or queued/);
  });
});
