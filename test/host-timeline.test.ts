// The host page's generations and the inventory's drill-in, from real builds of the
// stand-in: two systems deployed one after the other (and the second once more), the
// timeline shows two generations with the package added between them, and the exact
// package+version lookup names the host.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hostsRoute from '@/app/api/v1/hosts/route';
import { requestBuild } from '@/lib/builds/request-build';
import { findHost } from '@/lib/hosts/reach';
import { runBuild } from '@/lib/builds/run-build';
import { db } from '@/lib/db/client';
import { builds, deployments, deploymentTargets, hosts, requests } from '@/lib/db/schema';
import { hostsRunningExactly, parseInventoryQuery, searchInventory } from '@/lib/health/inventory';
import { hostTimeline } from '@/lib/hosts/timeline';
import { call, makeOrg, type OrgFixture } from './fixtures';

let fx: OrgFixture;
let tmp: string;
const host = `tl${Math.random().toString(36).slice(2, 7)}`;

async function buildWith(packages: string[]) {
  const current = await call(hostConfig.GET, { token: fx.members.operator.token, params: { name: host } });
  expect((await call(hostConfig.PUT, { method: 'PUT', token: fx.members.operator.token, params: { name: host }, json: { packages, baseVersion: current.json.version } })).status).toBe(200);
  const { buildId } = await requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, host));
  expect(await runBuild(buildId)).toBe('built');
  const [row] = await db().select().from(builds).where(eq(builds.id, buildId));
  return { buildId, storePath: row?.storePath as string };
}

/** What a finished rollout leaves behind: a deployment with one succeeded target. */
async function deployed(hostId: string, build: { buildId: string; storePath: string }, finishedAt: Date, source: 'api' | 'request' = 'api') {
  const [d] = await db().insert(deployments).values({ orgId: fx.org.id, status: 'succeeded', strategy: {}, source, createdBy: fx.members.operator.id, finishedAt }).returning();
  await db().insert(deploymentTargets).values({ deploymentId: d!.id, hostId, storePath: build.storePath, buildId: build.buildId, phase: 'succeeded', finishedAt });
  await db().update(hosts).set({ currentSystem: build.storePath }).where(eq(hosts.id, hostId));
  return d!.id;
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-timeline-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  fx = await makeOrg();
  expect((await call(hostsRoute.POST, { method: 'POST', token: fx.members.operator.token, json: { name: host } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('host timeline', () => {
  it('lists each system switched to, newest first, with the packages changed against the one before', async () => {
    const [row] = await db().select().from(hosts).where(and(eq(hosts.orgId, fx.org.id), eq(hosts.name, host)));
    const hostId = row!.id;
    const first = await buildWith(['jq']);
    const second = await buildWith(['jq', 'hello']);
    const t0 = Date.now() - 3_600_000;
    await deployed(hostId, first, new Date(t0));
    const secondDeployment = await deployed(hostId, second, new Date(t0 + 60_000), 'request');
    // The same system again is no new generation.
    await deployed(hostId, second, new Date(t0 + 120_000));
    const [req] = await db()
      .insert(requests)
      .values({ orgId: fx.org.id, hostId, requesterId: fx.members.requester.id, kind: 'install', payload: { package: 'hello' }, reason: 'greetings', status: 'live', deploymentId: secondDeployment })
      .returning();

    const [fresh] = await db().select().from(hosts).where(eq(hosts.id, hostId));
    const timeline = await hostTimeline(fx.members.viewer.caller, fresh!);
    expect(timeline.map((g) => g.storePath)).toEqual([second.storePath, first.storePath]);
    expect(timeline[0]).toMatchObject({ current: true, buildId: second.buildId, deployment: { id: secondDeployment, source: 'request', by: fx.members.operator.email }, request: { id: req!.id, kind: 'install', package: 'hello' } });
    expect(timeline[0]?.changes?.added).toEqual([{ pname: 'hello', before: null, after: '2.12.1' }]);
    expect(timeline[0]?.changes?.removed).toEqual([]);
    expect(timeline[1]).toMatchObject({ current: false, changes: null, request: null });

    // A requester sees only their own requests; another requester's is left out.
    expect((await hostTimeline(fx.members.requester.caller, fresh!))[0]?.request?.id).toBe(req!.id);
    const stranger = { ...fx.members.requester.caller, user: { ...fx.members.requester.caller.user, id: fx.members.viewer.id } };
    expect((await hostTimeline(stranger, fresh!))[0]?.request).toBeNull();

    // Bounded: one generation asked for, one shown, still diffed against the one before.
    const one = await hostTimeline(fx.members.viewer.caller, fresh!, 1);
    expect(one).toHaveLength(1);
    expect(one[0]?.changes?.added.map((c) => c.pname)).toEqual(['hello']);

    // The inventory's search box and drill-in agree with what the host runs now.
    expect(parseInventoryQuery(' hello  2.12 ')).toEqual({ name: 'hello', version: '2.12' });
    expect(await searchInventory(fx.members.operator.caller, 'hel', 10, { version: '2.12' })).toEqual([{ pname: 'hello', version: '2.12.1', hosts: 1 }]);
    expect(await searchInventory(fx.members.operator.caller, 'hel', 10, { version: '2.11' })).toEqual([]);
    // A token limited to tags this host does not carry finds nothing of it.
    const elsewhere = { ...fx.members.operator.caller, token: { id: 't', name: 'other tags', hostTags: ['no-such-tag'] } };
    expect(await searchInventory(elsewhere, 'hel', 10)).toEqual([]);
    expect(await hostsRunningExactly(fx.org.id, 'hello', '2.12.1', { limit: 10, offset: 0 })).toMatchObject({ total: 1, hosts: [{ host }] });
    expect(await hostsRunningExactly(fx.org.id, 'hello', '2.12', { limit: 10, offset: 0 })).toEqual({ total: 0, hosts: [] });
    // Back to the first system: hello is gone from the inventory.
    await db().update(hosts).set({ currentSystem: first.storePath }).where(eq(hosts.id, hostId));
    expect(await hostsRunningExactly(fx.org.id, 'hello', '2.12.1', { limit: 10, offset: 0 })).toEqual({ total: 0, hosts: [] });
  }, 180_000);
});
