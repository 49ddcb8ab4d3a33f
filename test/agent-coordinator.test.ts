// The agent's coordinator with a real agent process, real Nix and the real gateway:
// `cancel` stops a target until its profile changes and is refused after; `rollback`
// takes the host back to the system the target replaced, through the same rollback as
// a failed switch, during the activation or after it succeeded.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as cancelRoute from '@/app/api/v1/deployments/[id]/cancel/route';
import { db } from '@/lib/db/client';
import { deploymentTargets } from '@/lib/db/schema';
import { rollbackMessage } from '@/lib/deployments/delivery';
import { resetEnvCache } from '@/lib/env';
import { startHarness, until, type Harness } from './agent-harness';
import { call, makeOrg, type OrgFixture } from './fixtures';
import { SimulatedHost } from './simulated-host';

let fx: OrgFixture;
let harness: Harness;
let tmp: string;
let sim: SimulatedHost;
const systems = { good: '', slowCheck: '', slowSwitch: '', slowSwitch2: '' };

async function deploy(system: string) {
  const deploymentId = await sim.deploy(system, { confirmTimeoutSeconds: 20 });
  const target = await until('the target to be sent', async () => {
    const t = await sim.target(deploymentId);
    return t && t.phase !== 'pending' ? t : undefined;
  });
  return { deploymentId, targetId: target.id };
}

/** The agent's journal step for a target, as the agent wrote it. */
const journalStep = async (targetId: string) => (await sim.journal()).find((e) => e.targetId === targetId)?.step;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-coordinator-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  resetEnvCache();
  fx = await makeOrg();
  harness = await startHarness();
  sim = await SimulatedHost.create({ name: `crd${Math.random().toString(36).slice(2, 8)}`, operator: fx.members.operator, dir: tmp, server: harness.base });
  systems.good = await sim.build('');
  // A pre-switch check that takes its time: a cancel must stop it, not wait for it.
  systems.slowCheck = await sim.build(`flotilla.checks.slow = "sleep 20";`);
  systems.slowSwitch = await sim.build('flotilla.test.activationDelaySeconds = 3;');
  systems.slowSwitch2 = await sim.build('flotilla.test.activationDelaySeconds = 4; flotilla.test.restartUnits = [ "x.service" ];');
  const first = await deploy(systems.good);
  expect((await sim.ended(first.deploymentId)).phase).toBe('succeeded');
}, 180_000);

afterAll(async () => {
  sim?.agent.child.kill('SIGKILL');
  await harness?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('cancel and rollback sent through the gateway', () => {
  it('a cancel before the profile changes stops the running check; the target is cancelled and the system unchanged', { timeout: 60_000 }, async () => {
    const { deploymentId, targetId } = await deploy(systems.slowCheck);
    await until('the agent to run its pre-switch checks', async () => (await journalStep(targetId)) === 'checking');
    const cancelledAt = Date.now();
    expect(harness.gateway.send(sim.id, { type: 'cancel', id: crypto.randomUUID(), targetId })).toBe(true);
    const target = await sim.ended(deploymentId);
    expect(target.phase, sim.agent.output()).toBe('cancelled');
    expect(target.error).toMatch(/cancelled by the server before the system changed \(while checking\); the system was not changed/);
    // The 20 s check was killed, not waited for.
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);
    expect((await sim.row())?.currentSystem).toBe(systems.good);
    expect(await sim.lines()).not.toContain(`switch ${systems.slowCheck}`);
  });

  it('cancelling the deployment through the API sends the cancel: the running check stops, the target is cancelled', { timeout: 60_000 }, async () => {
    const { deploymentId, targetId } = await deploy(systems.slowCheck);
    await until('the agent to run its pre-switch checks', async () => (await journalStep(targetId)) === 'checking');
    const cancelled = await call(cancelRoute.POST, { method: 'POST', token: fx.members.operator.token, params: { id: deploymentId } });
    expect(cancelled.status, JSON.stringify(cancelled.json)).toBe(200);
    const target = await sim.ended(deploymentId, 15_000);
    expect(target.phase, sim.agent.output()).toBe('cancelled');
    expect((await sim.row())?.currentSystem).toBe(systems.good);
    expect(await sim.lines()).not.toContain(`switch ${systems.slowCheck}`);
  });

  it('a cancel after the profile changed is refused with a reason, and the activation completes', { timeout: 60_000 }, async () => {
    const { deploymentId, targetId } = await deploy(systems.slowSwitch);
    await until('the switch to start', async () => (await sim.lines()).includes(`switch ${systems.slowSwitch}`));
    expect(harness.gateway.send(sim.id, { type: 'cancel', id: crypto.randomUUID(), targetId })).toBe(true);
    const target = await sim.ended(deploymentId);
    expect(target.phase, sim.agent.output()).toBe('succeeded');
    expect(target.log).toMatch(/cancel refused: the system profile already changed/);
    expect((await sim.row())?.currentSystem).toBe(systems.slowSwitch);
    expect((await sim.lines()).filter((l) => l === `switch ${systems.slowSwitch}`)).toHaveLength(1);
  });

  it('a rollback of a target that succeeded takes the host back to the system it replaced, and is reported', { timeout: 60_000 }, async () => {
    const [last] = await db().select().from(deploymentTargets).where(and(eq(deploymentTargets.hostId, sim.id), eq(deploymentTargets.storePath, systems.slowSwitch)));
    expect(last?.phase).toBe('succeeded');
    const message = await rollbackMessage(sim.id, last?.id as string);
    expect(message).toMatchObject({ type: 'rollback', toSystem: systems.good });
    expect(harness.gateway.send(sim.id, message as NonNullable<typeof message>)).toBe(true);
    const target = await until('the rollback to be reported', async () => {
      const t = await sim.target(last?.deploymentId as string);
      return t?.phase === 'rolled-back' ? t : undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}\nagent:\n${sim.agent.output()}`);
    });
    expect(target.rollbackReason).toBe('the server asked for a rollback');
    expect((await sim.row())?.currentSystem).toBe(systems.good);
    expect((await sim.lines()).at(-1)).toBe(`switch ${systems.good}`);
    // Asked again, it is refused: the host no longer runs that target's system.
    harness.gateway.send(sim.id, message as NonNullable<typeof message>);
    await until('the refusal', async () => /rollback refused: target .* ended rolled-back/.test(sim.agent.output()));
  });

  it('a rollback during the switch waits for the switch to end, then rolls back once', { timeout: 60_000 }, async () => {
    const { deploymentId, targetId } = await deploy(systems.slowSwitch2);
    await until('the switch to start', async () => (await sim.lines()).includes(`switch ${systems.slowSwitch2}`));
    expect(harness.gateway.send(sim.id, { type: 'rollback', id: crypto.randomUUID(), targetId, toSystem: systems.good })).toBe(true);
    const target = await sim.ended(deploymentId);
    expect(target.phase, sim.agent.output()).toBe('rolled-back');
    expect(target.rollbackReason).toBe('the server asked for a rollback');
    expect((await sim.row())?.currentSystem).toBe(systems.good);
    const all = await sim.lines();
    expect(all.filter((l) => l === `switch ${systems.slowSwitch2}`)).toHaveLength(1);
    expect(all.at(-1)).toBe(`switch ${systems.good}`);
  });

  it('a rollback to any system but the one the target replaced is refused: a server cannot steer the host elsewhere', { timeout: 60_000 }, async () => {
    const before = await sim.switches(systems.slowSwitch);
    const { deploymentId, targetId } = await deploy(systems.slowSwitch);
    await until('the switch to start', async () => (await sim.switches(systems.slowSwitch)) > before);
    expect(harness.gateway.send(sim.id, { type: 'rollback', id: crypto.randomUUID(), targetId, toSystem: systems.slowCheck })).toBe(true);
    const target = await sim.ended(deploymentId);
    expect(target.phase, sim.agent.output()).toBe('succeeded');
    expect(target.log).toMatch(/rollback refused: this activation replaced/);
    expect((await sim.row())?.currentSystem).toBe(systems.slowSwitch);
    expect(await sim.lines()).not.toContain(`switch ${systems.slowCheck}`);
  });
});
