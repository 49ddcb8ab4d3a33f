// Self-service requests end to end through the API, with real Nix builds of the
// stand-in: submit → preview with its closure diff → approve → config version on behalf
// of the requester → build (the preview's, reused) → deployment → live; and the refusals.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as buildById from '@/app/api/v1/builds/[id]/route';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hostsRoute from '@/app/api/v1/hosts/route';
import * as myMachines from '@/app/api/v1/me/machines/route';
import * as policies from '@/app/api/v1/request-policies/route';
import * as approve from '@/app/api/v1/requests/[id]/approve/route';
import * as comments from '@/app/api/v1/requests/[id]/comments/route';
import * as deny from '@/app/api/v1/requests/[id]/deny/route';
import * as preview from '@/app/api/v1/requests/[id]/preview/route';
import * as requestById from '@/app/api/v1/requests/[id]/route';
import * as batchApprove from '@/app/api/v1/requests/batch-approve/route';
import * as requestsRoute from '@/app/api/v1/requests/route';
import * as stats from '@/app/api/v1/requests/stats/route';
import * as usersRoute from '@/app/api/v1/users/route';
import { createApiToken } from '@/lib/auth/api-tokens';
import { callerForUser } from '@/lib/auth/membership';
import { ROLE_PERMISSIONS } from '@/lib/auth/permissions';
import { runBuild } from '@/lib/builds/run-build';
import { db } from '@/lib/db/client';
import { auditEvents, deployments, hostConfigs, hosts, notifications, requests, users } from '@/lib/db/schema';
import { createDeployment } from '@/lib/deployments/create';
import { isFinalDeployment } from '@/lib/db/statuses';
import { requestBuild } from '@/lib/builds/request-build';
import { findHost } from '@/lib/hosts/reach';
import { advanceDeployment } from '@/lib/deployments/advance';
import { nextDeploy, recordResult } from '@/lib/deployments/delivery';
import { buildPackageIndex } from '@/lib/packages/build-index';
import { resolveNixpkgsSource } from '@/lib/packages/source';
import { call, makeOrg, PASSWORD, type OrgFixture } from './fixtures';

let fx: OrgFixture;
let tmp: string;
let otherRequester: string;
const run = Math.random().toString(36).slice(2, 7);
const laptop = `laptop-${run}`;
const desktop = `desktop-${run}`;
const elsewhere = `other-${run}`;

const op = () => fx.members.operator.token;
const me = () => fx.members.requester.token;
const get = async (id: string, token = me()) => call(requestById.GET, { token, params: { id } });
const ask = (json: unknown, token = me()) => call(requestsRoute.POST, { method: 'POST', token, json });
const version = async (host: string) => (await call(hostConfig.GET, { token: op(), params: { name: host } })).json as { version: number; packages: string[] };

/** Plays the host's agent: activates whatever the rollout sends it, until the deployment ends. */
async function landDeployment(deploymentId: string, host: string) {
  const [h] = await db().select().from(hosts).where(and(eq(hosts.orgId, fx.org.id), eq(hosts.name, host)));
  for (let i = 0; i < 10; i++) {
    await advanceDeployment(deploymentId);
    const msg = await nextDeploy(h?.id as string);
    if (msg) {
      await recordResult(h?.id as string, { type: 'result', id: crypto.randomUUID(), deploymentId: msg.deploymentId, targetId: msg.targetId, outcome: 'succeeded', reason: null, logsTail: '', currentSystem: msg.storePath });
    }
    const [d] = await db().select().from(deployments).where(eq(deployments.id, deploymentId));
    if (d && isFinalDeployment(d.status)) return d.status;
  }
  throw new Error(`deployment ${deploymentId} never finished`);
}

async function landRequest(id: string, host: string) {
  const deploymentId = (await get(id, op())).json.deploymentId as string;
  expect(await landDeployment(deploymentId, host)).toBe('succeeded');
  expect((await get(id)).json.status).toBe('live');
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-requests-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  fx = await makeOrg();
  await buildPackageIndex(resolveNixpkgsSource(null));
  const other = await call(usersRoute.POST, { method: 'POST', token: fx.members.admin.token, json: { email: `other-${run}@example.com`, name: 'Other Employee', role: 'requester', password: PASSWORD } });
  expect(other.status, JSON.stringify(other.json)).toBe(201);
  otherRequester = (await createApiToken((await callerForUser(other.json.id)) as never, { name: 'other', scopes: [...ROLE_PERMISSIONS.requester] })).token;
  for (const [name, assignees] of [
    [laptop, [fx.members.requester.email]],
    [desktop, [fx.members.requester.email]],
    [elsewhere, [`other-${run}@example.com`]],
  ] as const) {
    const created = await call(hostsRoute.POST, { method: 'POST', token: op(), json: { name, assignees } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
  }
  // Both machines are connected (the test plays their agents) and run a first system, so
  // diffs and "installed packages" come from real closures.
  await db().update(hosts).set({ online: true }).where(eq(hosts.orgId, fx.org.id));
  for (const host of [laptop, desktop]) {
    const saved = await call(hostConfig.PUT, { method: 'PUT', token: op(), params: { name: host }, json: { packages: ['git'], baseVersion: 1 } });
    expect(saved.status).toBe(200);
    const { buildId } = await requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, host));
    expect(await runBuild(buildId)).toBe('built');
    const deployed = await createDeployment(fx.members.operator.caller, { hosts: [host], build: false });
    expect(await landDeployment(deployed.id, host)).toBe('succeeded');
  }
}, 120_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('self-service requests', () => {
  it('an install goes from request to live: preview diff, approval on behalf of the requester, build reused, deployed', async () => {
    const created = await ask({ host: laptop, kind: 'install', package: 'hello', reason: 'I want to greet people' });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const id = created.json.id as string;
    expect((await get(id)).json).toMatchObject({ status: 'submitted', host: laptop, package: 'hello', requester: { email: fx.members.requester.email } });
    const queue = await call(requestsRoute.GET, { token: op(), path: '/api/v1/requests?status=submitted' });
    expect(queue.json.requests.map((r: { id: string }) => r.id)).toContain(id);
    const told = await db().select().from(notifications).where(and(eq(notifications.eventKey, `${id}:submitted`)));
    expect(told.map((n) => n.userId).sort()).toEqual([fx.members.admin.id, fx.members.operator.id].sort());

    const shown = await call(preview.POST, { method: 'POST', token: op(), params: { id } });
    expect(shown.status, JSON.stringify(shown.json)).toBe(200);
    expect(shown.json.before).toEqual(['git']);
    expect(shown.json.after).toEqual(['git', 'hello']);
    expect(await runBuild(shown.json.buildId)).toBe('built');
    const build = await call(buildById.GET, { token: op(), params: { id: shown.json.buildId } });
    expect(build.json.diff.againstCurrent.added.map((p: { pname: string }) => p.pname)).toEqual(['hello']);
    // Nothing changed on the host by previewing.
    expect((await version(laptop)).packages).toEqual(['git']);

    const approved = await call(approve.POST, { method: 'POST', token: op(), params: { id }, json: { comment: 'Enjoy' } });
    expect(approved.status, JSON.stringify(approved.json)).toBe(200);
    const after = await version(laptop);
    expect(after.packages).toEqual(['git', 'hello']);
    const [row] = await db().select().from(hostConfigs).where(eq(hostConfigs.version, after.version));
    expect(row).toMatchObject({ authorId: fx.members.operator.id, onBehalfOf: fx.members.requester.id });
    const view = (await get(id)).json;
    expect(view.buildId).toBe(shown.json.buildId);
    expect(view.configVersion).toBe(after.version);

    await landRequest(id, laptop);
    expect((await get(id)).json).toMatchObject({ status: 'live', decisionComment: 'Enjoy', reviewer: fx.members.operator.email });
    const mine = await call(myMachines.GET, { token: me() });
    const machine = mine.json.machines.find((m: { name: string }) => m.name === laptop);
    expect(machine.packages.map((p: { attr: string }) => p.attr)).toEqual(['git', 'hello']);
    const kinds = await db().select({ kind: notifications.kind }).from(notifications).where(eq(notifications.userId, fx.members.requester.id));
    expect(kinds.map((k) => k.kind)).toEqual(expect.arrayContaining(['request.approved', 'request.live']));
  }, 120_000);

  it('a requester cannot ask for another employee’s host: the 404 of a host that does not exist, audited, nothing created', async () => {
    const before = (await db().select().from(requests).where(eq(requests.orgId, fx.org.id))).length;
    const refused = await ask({ host: elsewhere, kind: 'install', package: 'hello', reason: 'sneaky' });
    expect(refused.status).toBe(404);
    expect(refused.json.error.message).toBe(`No host named "${elsewhere}"`);
    expect((await db().select().from(requests).where(eq(requests.orgId, fx.org.id))).length).toBe(before);
    const audit = await db().select().from(auditEvents).where(and(eq(auditEvents.orgId, fx.org.id), eq(auditEvents.action, 'request.refused')));
    expect(audit.map((a) => (a.after as { host?: string } | null)?.host)).toContain(elsewhere);
    // Nor read another employee's request, nor see it listed.
    const theirs = await ask({ host: elsewhere, kind: 'install', package: 'jq', reason: 'for my work' }, otherRequester);
    expect(theirs.status).toBe(201);
    expect((await get(theirs.json.id)).status).toBe(404);
    const listed = await call(requestsRoute.GET, { token: me() });
    expect(listed.json.requests.some((r: { id: string }) => r.id === theirs.json.id)).toBe(false);
    expect((await call(comments.POST, { method: 'POST', token: me(), params: { id: theirs.json.id }, json: { body: 'hi' } })).status).toBe(404);
  });

  it('a denied request leaves the config unchanged and tells the requester why', async () => {
    const before = await version(desktop);
    const created = await ask({ host: desktop, kind: 'install', package: 'cowsay', reason: 'fun' });
    const question = await call(comments.POST, { method: 'POST', token: op(), params: { id: created.json.id }, json: { body: 'What for, exactly?' } });
    expect(question.status).toBe(201);
    await call(comments.POST, { method: 'POST', token: me(), params: { id: created.json.id }, json: { body: 'Morale.' } });
    expect((await call(deny.POST, { method: 'POST', token: op(), params: { id: created.json.id }, json: {} })).status).toBe(400);
    const denied = await call(deny.POST, { method: 'POST', token: op(), params: { id: created.json.id }, json: { comment: 'Not on work machines' } });
    expect(denied.json.status).toBe('denied');
    expect(await version(desktop)).toEqual(before);
    const view = (await get(created.json.id)).json;
    expect(view).toMatchObject({ status: 'denied', decisionComment: 'Not on work machines' });
    expect(view.comments.map((c: { body: string }) => c.body)).toEqual(['What for, exactly?', 'Morale.', 'Not on work machines']);
    expect((await call(approve.POST, { method: 'POST', token: op(), params: { id: created.json.id }, json: {} })).status).toBe(409);
    // Requesters and viewers cannot decide.
    const again = await ask({ host: desktop, kind: 'install', package: 'cowsay', reason: 'please' });
    expect((await call(approve.POST, { method: 'POST', token: me(), params: { id: again.json.id }, json: {} })).status).toBe(403);
    expect((await call(approve.POST, { method: 'POST', token: fx.members.viewer.token, params: { id: again.json.id }, json: {} })).status).toBe(403);
  });

  it('policies: a never-allowed package is refused with its reason, a pre-approved one is approved at once', async () => {
    const set = await call(policies.PUT, {
      method: 'PUT',
      token: fx.members.admin.token,
      json: { policies: [{ package: 'htop', rule: 'never-allowed', reason: 'use the monitoring dashboard instead' }, { package: 'tmux', rule: 'pre-approved' }] },
    });
    expect(set.status, JSON.stringify(set.json)).toBe(200);
    expect((await call(policies.PUT, { method: 'PUT', token: op(), json: { policies: [] } })).status).toBe(403);
    const before = (await db().select().from(requests).where(eq(requests.orgId, fx.org.id))).length;
    const refused = await ask({ host: desktop, kind: 'install', package: 'htop', reason: 'to watch load' });
    expect(refused.status).toBe(422);
    expect(refused.json.error.message).toBe('htop may not be installed: use the monitoring dashboard instead');
    expect((await db().select().from(requests).where(eq(requests.orgId, fx.org.id))).length).toBe(before);
    expect((await ask({ host: desktop, kind: 'install', package: 'no-such-package', reason: 'x y z' })).status).toBe(422);

    const auto = await ask({ host: desktop, kind: 'install', package: 'tmux', reason: 'terminals' });
    expect(auto.json.autoApproved).toBe(true);
    const view = (await get(auto.json.id)).json;
    expect(view).toMatchObject({ autoApproved: true, status: 'building' });
    expect((await version(desktop)).packages).toEqual(['git', 'tmux']);
    const [audit] = await db().select().from(auditEvents).where(and(eq(auditEvents.objectId, auto.json.id), eq(auditEvents.action, 'request.approve')));
    expect(audit?.actorLabel).toBe(`policy, for ${fx.members.requester.email}`);
  });

  it('approves the same package for several hosts at once, and counts it all for managers', async () => {
    const one = await ask({ host: laptop, kind: 'install', package: 'jq', reason: 'json' });
    const two = await ask({ host: desktop, kind: 'install', package: 'jq', reason: 'json too' });
    const batch = await call(batchApprove.POST, { method: 'POST', token: op(), json: { ids: [one.json.id, two.json.id] } });
    expect(batch.status).toBe(200);
    expect(batch.json.results.map((r: { status: string }) => r.status)).toEqual(['building', 'building']);
    expect((await version(laptop)).packages).toContain('jq');
    expect((await version(desktop)).packages).toContain('jq');

    const numbers = await call(stats.GET, { token: fx.members.viewer.token });
    expect(numbers.status).toBe(200);
    expect(numbers.json.denied).toBe(1);
    expect(numbers.json.approved).toBeGreaterThanOrEqual(4);
    expect(numbers.json.approvalRate).toBeGreaterThan(0.5);
    expect(numbers.json.medianSecondsToDecision).toBeGreaterThanOrEqual(0);
    expect((await call(stats.GET, { token: me() })).status).toBe(403);
    const [requester] = await db().select().from(users).where(eq(users.id, fx.members.requester.id));
    expect(requester?.email).toBe(fx.members.requester.email);
  });
});
