// Messages lost between the server and a real agent (real Nix, the real gateway): a
// `deploy` that never reached the agent, and a result the agent wrote into a connection
// that was already dead. Either way the target would wait in flight forever, and the host
// would get nothing new (one target in flight per host). On reconnecting, the server sends
// again every target in flight that the agent's hello does not mention; the agent answers
// one its journal knows with the recorded result, and starts one it never received.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '@/lib/db/client';
import { deploymentTargets } from '@/lib/db/schema';
import { resetEnvCache } from '@/lib/env';
import { startHarness, type Harness } from './agent-harness';
import { makeOrg } from './fixtures';
import { SimulatedHost } from './simulated-host';

let harness: Harness;
let tmp: string;
let sim: SimulatedHost;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-lost-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  resetEnvCache();
  const fx = await makeOrg();
  harness = await startHarness();
  sim = await SimulatedHost.create({ name: `lost${Math.random().toString(36).slice(2, 8)}`, operator: fx.members.operator, dir: tmp, server: harness.base });
}, 120_000);

afterAll(async () => {
  sim?.agent.child.kill('SIGKILL');
  await harness?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('messages lost on the way', () => {
  it('a deploy that never reached the agent is sent again when it connects, and activated once', { timeout: 120_000 }, async () => {
    const system = await sim.build('');
    await sim.stop();
    const id = await sim.deploy(system);
    // What a server killed right after moving the target to `sent` leaves: released and sent, never received.
    const [sent] = await db()
      .update(deploymentTargets)
      .set({ phase: 'sent', releasedAt: new Date(), sentAt: new Date(), attempts: 1 })
      .where(and(eq(deploymentTargets.deploymentId, id), eq(deploymentTargets.phase, 'pending')))
      .returning();
    expect(sent).toBeTruthy();
    sim.start();
    const target = await sim.ended(id);
    expect(target.phase, sim.agent.output()).toBe('succeeded');
    expect(await sim.switches(system)).toBe(1);
    expect((await sim.row())?.currentSystem).toBe(system);
  });

  it('a result written into a dead connection reaches the server on the next one, without a second activation', { timeout: 120_000 }, async () => {
    const system = await sim.build('flotilla.test.restartUnits = [ "lost.service" ];');
    const id = await sim.deploy(system);
    const done = await sim.ended(id);
    expect(done.phase).toBe('succeeded');
    await sim.stop();
    // The server never heard the result: the agent thinks it reported it (its journal says so).
    await db().update(deploymentTargets).set({ phase: 'confirming', finishedAt: null }).where(eq(deploymentTargets.id, done.id));
    sim.start();
    const again = await sim.ended(id);
    expect(again.phase, sim.agent.output()).toBe('succeeded');
    expect(await sim.switches(system), `${sim.agent.output()}\n${(await sim.lines()).join('\n')}`).toBe(1);
  });
});
