// The rollout state machine step by step, without agents: the test plays the hosts
// (online flags, delivery, results) and calls the driver's step itself, so every
// decision can be checked at the moment it is made.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as cancelRoute from '@/app/api/v1/deployments/[id]/cancel/route';
import * as pauseRoute from '@/app/api/v1/deployments/[id]/pause/route';
import * as resumeRoute from '@/app/api/v1/deployments/[id]/resume/route';
import * as deploymentById from '@/app/api/v1/deployments/[id]/route';
import * as deploymentsRoute from '@/app/api/v1/deployments/route';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hostsRoute from '@/app/api/v1/hosts/route';
import * as tokensRoute from '@/app/api/v1/tokens/route';
import { requestBuild } from '@/lib/builds/request-build';
import { findHost } from '@/lib/hosts/reach';
import { runBuild } from '@/lib/builds/run-build';
import { db } from '@/lib/db/client';
import { auditEvents, builds, deploymentTargets, hosts, webhookDeliveries } from '@/lib/db/schema';
import { advanceDeployment } from '@/lib/deployments/advance';
import { nextDeploy, recordResult } from '@/lib/deployments/delivery';
import type { TDeploymentView } from '@/lib/deployments/schemas';
import { createWebhook } from '@/lib/notify/webhooks';
import { call, makeOrg, type OrgFixture } from './fixtures';

let fx: OrgFixture;
let tmp: string;
let system: string;
const run = Math.random().toString(36).slice(2, 7);
const names = ['a', 'b', 'c', 'd', 'e'].map((n) => `s${run}-${n}`);

const op = () => fx.members.operator.token;
const view = async (id: string) => (await call(deploymentById.GET, { token: op(), params: { id } })).json as TDeploymentView;
const deploy = (json: unknown, token = op()) => call(deploymentsRoute.POST, { method: 'POST', token, json });
const hostId = async (name: string) => (await db().select({ id: hosts.id }).from(hosts).where(and(eq(hosts.orgId, fx.org.id), eq(hosts.name, name))))[0]?.id as string;
const setOnline = async (online: boolean, which = names) => {
  await db().update(hosts).set({ online }).where(and(eq(hosts.orgId, fx.org.id), inArray(hosts.name, which)));
};
const released = (v: TDeploymentView) => v.targets.filter((t) => t.releasedAt).map((t) => t.host);

/** Plays an agent: takes the host's released target and reports the outcome. */
async function land(name: string, outcome: 'succeeded' | 'failed' | 'rolled-back') {
  const id = await hostId(name);
  const msg = await nextDeploy(id);
  if (!msg) throw new Error(`nothing to send to ${name}`);
  await recordResult(id, {
    type: 'result',
    id: crypto.randomUUID(),
    deploymentId: msg.deploymentId,
    targetId: msg.targetId,
    outcome,
    reason: outcome === 'succeeded' ? null : 'switch-to-configuration exited 1',
    logsTail: '',
    currentSystem: outcome === 'succeeded' ? msg.storePath : null,
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-state-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  fx = await makeOrg();
  for (const name of names) {
    const created = await call(hostsRoute.POST, { method: 'POST', token: op(), json: { name, tags: name.endsWith('-e') ? ['web'] : [] } });
    expect(created.status).toBe(201);
  }
  const { buildId } = await requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, names[0] as string));
  expect(await runBuild(buildId)).toBe('built');
  system = (await db().select().from(builds).where(eq(builds.id, buildId)))[0]?.storePath as string;
  await createWebhook(fx.members.admin.caller, { name: 'chat', url: 'http://127.0.0.1:9/hook', format: 'slack', events: [] });
}, 120_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('the rollout state machine', () => {
  it('releases the canary alone, then at most maxInFlight, and never twice under concurrent steps', async () => {
    await setOnline(true);
    const created = await deploy({ agents: Object.fromEntries(names.map((n) => [n, system])), rollout: { canaries: 1, maxInFlight: 2, watchSeconds: 0 } });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    expect((await view(id)).status).toBe('pending');
    await Promise.all(Array.from({ length: 5 }, () => advanceDeployment(id)));
    let v = await view(id);
    expect(v.status).toBe('canary');
    expect(released(v)).toEqual([names[0]]);
    expect(v.targets.find((t) => t.host === names[0])?.wave).toBe(0);

    await land(names[0] as string, 'succeeded');
    await Promise.all(Array.from({ length: 5 }, () => advanceDeployment(id)));
    v = await view(id);
    expect(v.status).toBe('rolling');
    expect(released(v)).toEqual([names[0], names[1], names[2]]);

    // Waves are strict: wave 2 waits for all of wave 1, even with a place free.
    await land(names[1] as string, 'succeeded');
    await advanceDeployment(id);
    expect(released(await view(id))).toEqual([names[0], names[1], names[2]]);
    await land(names[2] as string, 'succeeded');
    await advanceDeployment(id);
    expect(released(await view(id))).toEqual(names);
    // The hosts that got their turn want the new system.
    const desired = await db().select({ name: hosts.name, desired: hosts.desiredSystem }).from(hosts).where(inArray(hosts.name, names));
    expect(desired.filter((h) => h.desired === system).map((h) => h.name).sort()).toEqual(names);

    // One failure with maxFailures 0 halts; the host already activating goes on and its result counts.
    const inFlight = await nextDeploy(await hostId(names[4] as string));
    expect(inFlight?.targetId).toBeTruthy();
    await land(names[3] as string, 'rolled-back');
    await advanceDeployment(id);
    v = await view(id);
    expect(v.status).toBe('halted');
    expect(v.reason).toMatch(new RegExp(`1 host failed \\(${names[3]}\\), more than the 0 tolerated`));
    expect(v.targets.find((t) => t.host === names[4])?.phase).toBe('sent');
    await recordResult(await hostId(names[4] as string), {
      type: 'result',
      id: crypto.randomUUID(),
      deploymentId: id,
      targetId: inFlight?.targetId as string,
      outcome: 'succeeded',
      reason: null,
      logsTail: '',
      currentSystem: system,
    });
    expect((await view(id)).targets.find((t) => t.host === names[4])?.phase).toBe('succeeded');

    const events = await db().select({ event: webhookDeliveries.event }).from(webhookDeliveries).where(inArray(webhookDeliveries.eventKey, [`${id}:started`, `${id}:halted`]));
    expect(events.map((e) => e.event).sort()).toEqual(['deployment.halted', 'deployment.started']);
  });

  it('waits for offline hosts, pauses, resumes and cancels, each audited', async () => {
    await setOnline(false);
    const created = await deploy({ agents: Object.fromEntries(names.slice(0, 3).map((n) => [n, system])), rollout: { canaries: 0, maxInFlight: 3, offlineHosts: 'wait' } });
    const id = created.json.id as string;
    await advanceDeployment(id);
    let v = await view(id);
    expect(v.status).toBe('rolling');
    expect(v.targets.every((t) => t.phase === 'pending' && t.waiting === 'host offline' && !t.releasedAt)).toBe(true);

    expect((await call(pauseRoute.POST, { method: 'POST', token: op(), params: { id } })).json).toEqual({ id, status: 'paused' });
    await setOnline(true, [names[0] as string]);
    await advanceDeployment(id);
    expect(released(await view(id))).toEqual([]);
    expect((await call(pauseRoute.POST, { method: 'POST', token: op(), params: { id } })).status).toBe(409);

    expect((await call(resumeRoute.POST, { method: 'POST', token: op(), params: { id } })).json.status).toBe('rolling');
    await advanceDeployment(id);
    expect(released(await view(id))).toEqual([names[0]]);

    const viewer = await call(cancelRoute.POST, { method: 'POST', token: fx.members.viewer.token, params: { id } });
    expect(viewer.status).toBe(403);
    expect((await call(cancelRoute.POST, { method: 'POST', token: op(), params: { id } })).json.status).toBe('cancelled');
    v = await view(id);
    expect(v.targets.every((t) => t.phase === 'cancelled')).toBe(true);
    // A cancelled deployment's released target is never sent.
    expect(await nextDeploy(await hostId(names[0] as string))).toBeNull();
    expect((await call(resumeRoute.POST, { method: 'POST', token: op(), params: { id } })).status).toBe(409);
    const audit = await db().select({ action: auditEvents.action }).from(auditEvents).where(eq(auditEvents.objectId, id));
    expect(audit.map((a) => a.action).sort()).toEqual(['deployment.cancel', 'deployment.create', 'deployment.pause', 'deployment.resume']);
  });

  it('skips offline hosts past the deadline', async () => {
    await setOnline(false, [names[1] as string]);
    const created = await deploy({ agents: { [names[1] as string]: system }, rollout: { canaries: 0, offlineDeadlineSeconds: 0 } });
    await advanceDeployment(created.json.id, new Date(Date.now() + 1000));
    const v = await view(created.json.id);
    expect(v.status).toBe('succeeded');
    expect(v.targets[0]).toMatchObject({ phase: 'skipped', error: 'host offline until the deadline' });
  });

  it('a newer deployment supersedes an older one waiting for the same host', async () => {
    await setOnline(false, [names[2] as string]);
    const older = await deploy({ agents: { [names[2] as string]: system }, rollout: { canaries: 0 } });
    await advanceDeployment(older.json.id);
    const newer = await deploy({ agents: { [names[2] as string]: system }, rollout: { canaries: 0 } });
    await advanceDeployment(newer.json.id);
    await setOnline(true, [names[2] as string]);
    await advanceDeployment(older.json.id);
    const v = await view(older.json.id);
    expect(v.targets[0]).toMatchObject({ phase: 'skipped', error: `superseded by deployment ${newer.json.id}` });
    await advanceDeployment(newer.json.id);
    expect(released(await view(newer.json.id))).toEqual([names[2]]);
    await land(names[2] as string, 'succeeded');
  });

  it('deploys hosts from their configs after building them; a failing build stops it before anything is sent', async () => {
    await setOnline(true);
    const name = names[3] as string;
    const created = await deploy({ hosts: [name], build: true, rollout: { canaries: 0 } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    let v = await view(created.json.id);
    expect(v.targets[0]).toMatchObject({ storePath: null, waiting: 'waiting for its build' });
    await advanceDeployment(created.json.id);
    expect((await view(created.json.id)).status).toBe('pending');
    await runBuild(v.targets[0]?.buildId as string);
    await advanceDeployment(created.json.id);
    v = await view(created.json.id);
    expect(v.status).toBe('rolling');
    expect(v.targets[0]?.storePath).toMatch(/^\/nix\/store\/.*nixos-system/);
    await land(name, 'succeeded');
    await advanceDeployment(created.json.id);
    expect((await view(created.json.id)).status).toBe('succeeded');

    const current = await call(hostConfig.GET, { token: op(), params: { name } });
    const broken = await call(hostConfig.PUT, { method: 'PUT', token: op(), params: { name }, json: { module: '{ ... }: { networking.hostName = builtins.throw "no such option"; }', baseVersion: current.json.version } });
    expect(broken.status, JSON.stringify(broken.json)).toBe(200);
    const failing = await deploy({ hosts: [name], build: true });
    const buildId = (await view(failing.json.id)).targets[0]?.buildId as string;
    expect(await runBuild(buildId)).toBe('failed');
    await advanceDeployment(failing.json.id);
    v = await view(failing.json.id);
    expect(v.status).toBe('failed');
    expect(v.reason).toBe(`Build failed for ${name}; nothing was sent`);
    expect(v.targets[0]).toMatchObject({ phase: 'failed', sentAt: null, error: expect.stringMatching(/build failed.*no such option/s) });
  });

  it('a deploy token limited to tags may deploy only to hosts carrying them', async () => {
    const token = await call(tokensRoute.POST, { method: 'POST', token: op(), json: { name: 'ci', scopes: ['deployments.write', 'fleet.read'], hostTags: ['web'] } });
    expect(token.status).toBe(201);
    const outside = await deploy({ agents: { [names[0] as string]: system } }, token.json.token);
    expect(outside.status).toBe(403);
    expect(outside.json.error.details).toEqual({ outsideTokenScope: [names[0]] });
    const inside = await deploy({ agents: { [names[4] as string]: system } }, token.json.token);
    expect(inside.status).toBe(201);
    // Building needs builds.run, which this token lacks.
    expect((await deploy({ hosts: [names[4] as string], build: true }, token.json.token)).status).toBe(403);
    const targets = await db().select().from(deploymentTargets).where(eq(deploymentTargets.deploymentId, inside.json.id));
    expect(targets).toHaveLength(1);
  });
});
