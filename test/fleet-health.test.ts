// Fleet health: the overview's numbers agree with the host list they link to, samples roll
// up into hours exactly once, the inventory answers from real closures of the stand-in,
// alerts fire and resolve once, the CSV export has the filtered rows, /metrics has the
// fleet gauges.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as metricsRoute from '@/app/metrics/route';
import * as alertRulesRoute from '@/app/api/v1/alert-rules/route';
import * as overviewRoute from '@/app/api/v1/fleet/overview/route';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hostsRoute from '@/app/api/v1/hosts/route';
import * as inventoryRoute from '@/app/api/v1/inventory/route';
import * as savedFiltersRoute from '@/app/api/v1/saved-filters/route';
import { requestBuild } from '@/lib/builds/request-build';
import { findHost } from '@/lib/hosts/reach';
import { runBuild } from '@/lib/builds/run-build';
import { db } from '@/lib/db/client';
import { alertFirings, builds, deployments, deploymentTargets, fleetSamples, hostMetrics, hosts, notifications, webhookDeliveries } from '@/lib/db/schema';
import { evaluateAlerts } from '@/lib/health/alerts';
import { mostInstalled, packageVersions } from '@/lib/health/inventory';
import { deploymentsPerDay, endWithNow } from '@/lib/health/overview';
import { rollUp, sampleFleet } from '@/lib/health/samples';
import { csvField } from '@/lib/hosts/export';
import { HOST_STATUS_FILTERS } from '@/lib/hosts/schemas';
import { createWebhook } from '@/lib/notify/webhooks';
import { call, makeOrg, type OrgFixture } from './fixtures';

let fx: OrgFixture;
let tmp: string;
const run = Math.random().toString(36).slice(2, 7);
const name = (n: string) => `h${run}-${n}`;
const op = () => fx.members.operator.token;

async function setHost(n: string, values: Partial<typeof hosts.$inferInsert>) {
  await db().update(hosts).set(values).where(and(eq(hosts.orgId, fx.org.id), eq(hosts.name, name(n))));
}
const idOf = async (n: string) => (await db().select({ id: hosts.id }).from(hosts).where(and(eq(hosts.orgId, fx.org.id), eq(hosts.name, name(n)))))[0]?.id as string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-health-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  fx = await makeOrg();
  for (const n of ['a', 'b', 'c', 'd', 'e']) expect((await call(hostsRoute.POST, { method: 'POST', token: op(), json: { name: name(n), tags: n === 'e' ? ['db'] : [] } })).status).toBe(201);
  const now = Date.now();
  const sys = (i: number) => `/nix/store/${String(i).repeat(32)}-nixos-system`;
  // a switched since it booted, without a new kernel: by NixOS's rule no reboot; d's agent says its kernel changed.
  await setHost('a', { online: true, lastSeen: new Date(now), currentSystem: sys(1), bootedSystem: sys(4), desiredSystem: sys(1), nixpkgsDate: new Date(now - 10 * 86_400_000).toISOString().slice(0, 10), agentVersion: '0.1.0', lastHealth: { storeFreeBytes: 50 * 1024 ** 3, failedUnits: [] } });
  await setHost('b', { online: true, lastSeen: new Date(now), currentSystem: sys(1), desiredSystem: sys(2), nixpkgsDate: '2024-01-01', agentVersion: '0.1.0', lastHealth: { storeFreeBytes: 1024 ** 3, failedUnits: ['nginx.service'] } });
  await setHost('c', { online: false, lastSeen: new Date(now - 30 * 60_000), currentSystem: sys(1), lastDeployPhase: 'rolled-back', agentVersion: '0.0.9' });
  await setHost('d', { online: true, lastSeen: new Date(now), currentSystem: sys(3), bootedSystem: sys(1), needsReboot: true, lastDeployPhase: 'succeeded' });
}, 60_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('fleet health', () => {
  it('every overview number equals the length of the host list it links to', async () => {
    const overview = await call(overviewRoute.GET, { token: fx.members.viewer.token });
    expect(overview.status).toBe(200);
    const counts = overview.json.counts as Record<string, number>;
    expect(counts).toMatchObject({ total: 5, online: 3, offline: 1, neverSeen: 1, drifted: 1, failed: 1, needsReboot: 1, lowDisk: 1, unitsFailed: 1, outdated: 1, upToDate: 3 });
    const key: Record<string, string> = { 'never-seen': 'neverSeen', 'up-to-date': 'upToDate', 'needs-reboot': 'needsReboot', 'low-disk': 'lowDisk', 'units-failed': 'unitsFailed' };
    for (const status of HOST_STATUS_FILTERS) {
      const list = await call(hostsRoute.GET, { token: fx.members.viewer.token, path: `/api/v1/hosts?status=${status}` });
      expect(list.json.total, status).toBe(counts[key[status] ?? status]);
    }
    expect(overview.json.agents).toEqual(expect.arrayContaining([{ version: '0.1.0', hosts: 2 }, { version: '0.0.9', hosts: 1 }]));
    expect(overview.json.nixpkgsAges).toEqual({ fresh: 1, aging: 0, outdated: 1, unknown: 3 });
    const byAgent = await call(hostsRoute.GET, { token: fx.members.viewer.token, path: '/api/v1/hosts?agent=0.0.9' });
    expect(byAgent.json.hosts.map((h: { name: string }) => h.name)).toEqual([name('c')]);
    expect((await call(overviewRoute.GET, { token: fx.members.requester.token })).status).toBe(403);
  });

  it('samples the fleet and rolls samples into hours exactly once, dropping raw ones past retention', async () => {
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const base = hour - 3 * 3_600_000;
    for (let m = 0; m < 60; m += 20) await sampleFleet(new Date(base + m * 60_000));
    const a = await idOf('a');
    await db().insert(hostMetrics).values([
      { hostId: a, resolution: 'raw', at: new Date(base + 60_000), online: true, load1: 1, storeFreeBytes: 100 },
      { hostId: a, resolution: 'raw', at: new Date(base + 30 * 60_000), online: true, load1: 3, storeFreeBytes: 50 },
      // Past the two days raw samples are kept.
      { hostId: a, resolution: 'raw', at: new Date(hour - 3 * 86_400_000), online: true, load1: 9 },
    ]);
    await rollUp(new Date(hour + 5 * 60_000));
    await rollUp(new Date(hour + 6 * 60_000));
    const hourly = await db().select().from(hostMetrics).where(and(eq(hostMetrics.hostId, a), eq(hostMetrics.resolution, 'hour')));
    expect(hourly).toHaveLength(1);
    expect(hourly[0]).toMatchObject({ at: new Date(base), load1: 2, storeFreeBytes: 50, online: true });
    const raw = await db().select().from(hostMetrics).where(and(eq(hostMetrics.hostId, a), eq(hostMetrics.resolution, 'raw')));
    expect(raw.map((r) => r.load1).sort()).toEqual([1, 3]);
    const fleetHours = await db().select().from(fleetSamples).where(and(eq(fleetSamples.orgId, fx.org.id), eq(fleetSamples.resolution, 'hour')));
    expect(fleetHours).toHaveLength(1);
    expect(fleetHours[0]).toMatchObject({ total: 5, online: 3, drifted: 1 });
    const overview = await call(overviewRoute.GET, { token: fx.members.viewer.token });
    expect(overview.json.history.some((p: { at: string; online: number }) => p.at === new Date(base).toISOString() && p.online === 3)).toBe(true);
  });

  it("the overview's series end with the counts its cards show, not with a sample minutes old", async () => {
    // A host goes offline after the last sample: the Online card and the Online chart's last point must agree.
    await setHost('d', { online: false });
    try {
      const overview = await call(overviewRoute.GET, { token: fx.members.viewer.token });
      const last = overview.json.history.at(-1) as { at: string; online: number; total: number; drifted: number; failed: number };
      const counts = overview.json.counts as Record<string, number>;
      expect(last).toMatchObject({ online: counts.online, total: counts.total, drifted: counts.drifted, failed: counts.failed });
      expect(counts.online).toBe(2);
      expect(Date.now() - Date.parse(last.at)).toBeLessThan(60_000);
    } finally {
      await setHost('d', { online: true });
    }
    // Without a sample there is no series for the cards' point to end.
    expect(endWithNow([], { total: 1, online: 1 } as Parameters<typeof endWithNow>[1], new Date())).toEqual([]);
  });

  it('counts a rollout rolled back on purpose apart from failed ones, as the Failed card does', async () => {
    const hostId = await idOf('a');
    const finishedAt = new Date();
    const deployment = async (status: 'succeeded' | 'halted' | 'rolled-back', phase: 'succeeded' | 'failed' | 'rolled-back') => {
      const [d] = await db().insert(deployments).values({ orgId: fx.org.id, status, strategy: {}, source: 'api', finishedAt }).returning();
      await db().insert(deploymentTargets).values({ deploymentId: d!.id, hostId, storePath: '/nix/store/00000000000000000000000000000000-nixos-system', phase, finishedAt });
    };
    await deployment('succeeded', 'succeeded');
    // A person rolled back a rollout whose hosts all succeeded: a choice, not a failure.
    await deployment('rolled-back', 'succeeded');
    // The failure gate rolled back a rollout after a host rolled itself back.
    await deployment('rolled-back', 'rolled-back');
    await deployment('halted', 'failed');
    const today = (await deploymentsPerDay(fx.org.id)).find((d) => d.day === finishedAt.toISOString().slice(0, 10));
    expect(today).toMatchObject({ started: 4, succeeded: 1, failed: 2, rolledBack: 1, successRate: 1 / 3 });
  });

  it('the inventory lists exactly the hosts whose current closure has the package', async () => {
    const systems: Record<string, string> = {};
    for (const [n, packages] of [
      ['a', ['hello', 'jq']],
      ['b', ['jq']],
      ['e', ['hello']],
    ] as const) {
      const current = await call(hostConfig.GET, { token: op(), params: { name: name(n) } });
      expect((await call(hostConfig.PUT, { method: 'PUT', token: op(), params: { name: name(n) }, json: { packages, baseVersion: current.json.version } })).status).toBe(200);
      const { buildId } = await requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, name(n)));
      expect(await runBuild(buildId)).toBe('built');
      systems[n] = (await db().select().from(builds).where(eq(builds.id, buildId)))[0]?.storePath as string;
      // What the host's agent reports once it switched.
      await setHost(n, { currentSystem: systems[n] });
    }
    const hello = await call(inventoryRoute.GET, { token: fx.members.viewer.token, path: '/api/v1/inventory?package=hello' });
    expect(hello.json.hosts.map((h: { host: string }) => h.host)).toEqual([name('a'), name('e')]);
    expect(hello.json.versions).toEqual([{ version: '2.12.1', hosts: 2 }]);
    const jq = await call(inventoryRoute.GET, { token: fx.members.viewer.token, path: '/api/v1/inventory?package=jq&version=1.7' });
    expect(jq.json.hosts.map((h: { host: string }) => h.host)).toEqual([name('a'), name('b')]);
    expect((await call(inventoryRoute.GET, { token: fx.members.viewer.token, path: '/api/v1/inventory?package=jq&version=1.6' })).json.hosts).toEqual([]);
    const search = await call(inventoryRoute.GET, { token: fx.members.viewer.token, path: '/api/v1/inventory?q=hel' });
    expect(search.json.packages).toEqual([{ pname: 'hello', version: '2.12.1', hosts: 2 }]);
    // Browsing without a name: the most installed packages first, then one package's versions.
    const top = await mostInstalled(fx.members.viewer.caller);
    expect(top).toEqual(expect.arrayContaining([{ pname: 'hello', hosts: 2, versions: 1 }, { pname: 'jq', hosts: 2, versions: 1 }]));
    expect(top.map((p) => p.hosts)).toEqual([...top.map((p) => p.hosts)].sort((x, y) => y - x));
    expect(top.filter((p) => p.pname.startsWith('nixos-system-'))).toEqual([]);
    expect(await packageVersions(fx.members.viewer.caller, 'jq')).toEqual([{ version: '1.7.1', hosts: 2 }]);
  }, 120_000);

  it('alerts fire once while the condition holds and resolve once, to webhooks and operators', async () => {
    await createWebhook(fx.members.admin.caller, { name: 'pager', url: 'http://127.0.0.1:9/alerts', format: 'generic', events: ['alert.fired', 'alert.resolved'] });
    expect((await call(alertRulesRoute.POST, { method: 'POST', token: op(), json: { name: 'down', kind: 'host-offline', threshold: 10 } })).status).toBe(403);
    const created = await call(alertRulesRoute.POST, { method: 'POST', token: fx.members.admin.token, json: { name: 'Host down', kind: 'host-offline', threshold: 10 } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect((await call(alertRulesRoute.POST, { method: 'POST', token: fx.members.admin.token, json: { name: 'x', kind: 'disk-low' } })).status).toBe(400);
    expect(await evaluateAlerts()).toEqual({ fired: 1, resolved: 0 });
    expect(await evaluateAlerts()).toEqual({ fired: 0, resolved: 0 });
    const [firing] = await db().select().from(alertFirings).where(eq(alertFirings.ruleId, created.json.id));
    expect(firing?.summary).toMatch(new RegExp(`${name('c')} has been offline since`));
    await setHost('c', { online: true, lastSeen: new Date() });
    expect(await evaluateAlerts()).toEqual({ fired: 0, resolved: 1 });
    const deliveries = await db().select({ event: webhookDeliveries.event }).from(webhookDeliveries).where(inArray(webhookDeliveries.eventKey, [`${firing?.id}:fired`, `${firing?.id}:resolved`]));
    expect(deliveries.map((d) => d.event).sort()).toEqual(['alert.fired', 'alert.resolved']);
    const told = await db().select().from(notifications).where(eq(notifications.eventKey, `${firing?.id}:fired`));
    expect(told.map((n) => n.userId).sort()).toEqual([fx.members.admin.id, fx.members.operator.id].sort());
  });

  it('exports the filtered host list as CSV, defusing formulas', async () => {
    const res = await call(hostsRoute.GET, { token: fx.members.viewer.token, path: '/api/v1/hosts?status=online&format=csv' });
    expect(res.status).toBe(200);
    const lines = String(res.json).trim().split('\r\n');
    expect(lines[0]).toMatch(/^name,status,tags,last_seen/);
    expect(lines.slice(1).map((l) => l.split(',')[0]).sort()).toEqual([name('a'), name('b'), name('c'), name('d')].sort());
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('a,b')).toBe('"a,b"');
  });

  it('saved filters belong to their owner', async () => {
    const saved = await call(savedFiltersRoute.POST, { method: 'POST', token: fx.members.viewer.token, json: { name: 'broken', query: { status: 'failed' } } });
    expect(saved.status).toBe(201);
    expect((await call(savedFiltersRoute.POST, { method: 'POST', token: fx.members.viewer.token, json: { name: 'broken', query: {} } })).status).toBe(409);
    expect((await call(savedFiltersRoute.GET, { token: fx.members.viewer.token })).json.filters).toEqual([{ id: saved.json.id, name: 'broken', query: expect.objectContaining({ status: 'failed' }) }]);
    expect((await call(savedFiltersRoute.GET, { token: op() })).json.filters).toEqual([]);
  });

  it('/metrics exports the fleet gauges of the token’s organisation', async () => {
    const res = await call(metricsRoute.GET, { token: op() });
    expect(res.status).toBe(200);
    const text = String(res.json);
    expect(text).toMatch(/^flotilla_hosts\{status="online"\} 4$/m);
    expect(text).toMatch(/^flotilla_hosts_total 5$/m);
    expect(text).toMatch(/^flotilla_agents_connected 4$/m);
    expect(text).toMatch(/^flotilla_agent_versions\{version="0.1.0"\} 2$/m);
    expect(text).toMatch(/flotilla_queue_depth/);
    expect(text).toMatch(/flotilla_process_cpu/);
  });
});
