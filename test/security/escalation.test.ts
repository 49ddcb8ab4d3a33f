// Issue 14, findings 3, 4, 7 and 9, each as it was reproduced on 3da30e4: tokens that
// escaped their tag limit and expiry, reviewing as a way around hosts.write and
// deployments.write, NUL bytes as 500s (and an agent hello closing with 1011), and
// requesters telling other people's hosts from hosts that do not exist.
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as hostRoute from '@/app/api/v1/hosts/[name]/route';
import * as configRoute from '@/app/api/v1/hosts/[name]/config/route';
import * as hostsRoute from '@/app/api/v1/hosts/route';
import * as bulkRoute from '@/app/api/v1/bulk/hosts/route';
import * as deploymentsRoute from '@/app/api/v1/deployments/route';
import * as previewDeploymentRoute from '@/app/api/v1/deployments/preview/route';
import * as requestsRoute from '@/app/api/v1/requests/route';
import * as approveRoute from '@/app/api/v1/requests/[id]/approve/route';
import * as previewRoute from '@/app/api/v1/requests/[id]/preview/route';
import * as tokensRoute from '@/app/api/v1/tokens/route';
import * as tokenRoute from '@/app/api/v1/tokens/[id]/route';
import * as meRoute from '@/app/api/v1/me/route';
import * as hostActions from '@/app/(app)/hosts/actions';
import * as requestActions from '@/app/(app)/requests/actions';
import { enrollHost } from '@/lib/agents/credentials';
import { AGENT_WS_PATH, SUBPROTOCOL } from '@/lib/agents/protocol';
import { createApiToken } from '@/lib/auth/api-tokens';
import { db } from '@/lib/db/client';
import { apiTokens, deployments, hostConfigs, hosts, requests } from '@/lib/db/schema';
import { startHarness, type Harness } from '../agent-harness';
import { call, makeOrg, type OrgFixture } from '../fixtures';

let fx: OrgFixture;
const DAY = 24 * 60 * 60 * 1000;

async function newHost(name: string, tags: string[], assignees: string[] = []) {
  const res = await call(hostsRoute.POST, { method: 'POST', token: fx.members.admin.token, json: { name, tags, assignees } });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json.enrollToken as string;
}

const hostRow = async (name: string) => (await db().select().from(hosts).where(and(eq(hosts.orgId, fx.org.id), eq(hosts.name, name))))[0]!;
const versionsOf = async (name: string) =>
  (await db().select({ n: sql<number>`count(*)::int` }).from(hostConfigs).where(eq(hostConfigs.hostId, (await hostRow(name)).id)))[0]!.n;
const deploymentCount = async () => (await db().select({ n: sql<number>`count(*)::int` }).from(deployments).where(eq(deployments.orgId, fx.org.id)))[0]!.n;

/** An admin's token narrowed to these scopes (and maybe tags and a lifetime). */
async function token(scopes: string[], extra: { hostTags?: string[]; expiresInDays?: number } = {}) {
  return (await createApiToken(fx.members.admin.caller, { name: `t-${scopes.length}-${Math.random()}`, scopes: scopes as never, ...extra })).token;
}

beforeAll(async () => {
  fx = await makeOrg();
  await newHost('web-01', ['web']);
  await newHost('db-01', ['db']);
  await newHost('desk-01', ['desk'], [fx.members.requester.email]);
  await newHost('desk-02', ['desk']);
});

describe('finding 3: a tag-limited token stays inside its tags', () => {
  it('a child token inherits the tag limit and the expiry, and cannot ask for more', async () => {
    const parent = await token(['fleet.read', 'hosts.write', 'deployments.write', 'tokens.own'], { hostTags: ['web'], expiresInDays: 1 });
    const child = await call(tokensRoute.POST, { method: 'POST', token: parent, json: { name: 'child', scopes: ['fleet.read', 'deployments.write'] } });
    expect(child.status).toBe(201);
    const [row] = await db().select().from(apiTokens).where(eq(apiTokens.id, child.json.id));
    expect(row?.hostTags).toEqual(['web']);
    expect(row?.expiresAt?.getTime()).toBeLessThanOrEqual(Date.now() + DAY);

    // The child cannot deploy where the parent could not (on 3da30e4 it had no limit and deployed to db-01).
    const deploy = await call(deploymentsRoute.POST, { method: 'POST', token: child.json.token, json: { hosts: ['db-01'], build: true } });
    expect(deploy.status).toBe(403);

    const wider = await call(tokensRoute.POST, { method: 'POST', token: parent, json: { name: 'wider', scopes: ['fleet.read'], hostTags: ['db'] } });
    expect(wider.status).toBe(403);
    const longer = await call(tokensRoute.POST, { method: 'POST', token: parent, json: { name: 'longer', scopes: ['fleet.read'], expiresInDays: 30 } });
    expect(longer.status).toBe(403);
    const narrower = await call(tokensRoute.POST, { method: 'POST', token: parent, json: { name: 'narrower', scopes: ['fleet.read'], hostTags: ['web'] } });
    expect(narrower.status).toBe(201);
  });

  it('revoking a token revokes the tokens it made, and theirs', async () => {
    const parent = await token(['fleet.read', 'tokens.own'], { hostTags: ['web'] });
    const child = await call(tokensRoute.POST, { method: 'POST', token: parent, json: { name: 'child', scopes: ['fleet.read', 'tokens.own'] } });
    const grandchild = await call(tokensRoute.POST, { method: 'POST', token: child.json.token, json: { name: 'grandchild', scopes: ['fleet.read'] } });
    expect(grandchild.status).toBe(201);
    expect((await call(meRoute.GET, { token: grandchild.json.token })).status).toBe(200);
    const { callerFromApiToken } = await import('@/lib/auth/api-tokens');
    const parentId = (await callerFromApiToken(parent)).token!.id;
    expect((await call(tokenRoute.DELETE, { method: 'DELETE', token: fx.members.admin.token, params: { id: parentId } })).status).toBe(200);
    expect((await call(meRoute.GET, { token: child.json.token })).status).toBe(401);
    expect((await call(meRoute.GET, { token: grandchild.json.token })).status).toBe(401);
  });

  it('a deploy-only token (no fleet.read) deploys to the hosts of its tags and nowhere else', async () => {
    const ci = await token(['deployments.write'], { hostTags: ['web'] });
    const inside = await call(previewDeploymentRoute.POST, { method: 'POST', token: ci, json: { hosts: ['web-01'], build: false } });
    expect(inside.status, JSON.stringify(inside.json)).toBe(200);
    const outside = await call(previewDeploymentRoute.POST, { method: 'POST', token: ci, json: { hosts: ['web-01', 'db-01'], build: false } });
    expect(outside.status).toBe(403);
    expect(outside.json.error.details.outsideTokenScope).toEqual(['db-01']);
  });

  it('hosts.write with a tag limit cannot retag, rewrite or create hosts outside its tags', async () => {
    const scoped = await token(['fleet.read', 'hosts.write', 'deployments.write', 'builds.run'], { hostTags: ['web'] });
    const before = { tags: (await hostRow('db-01')).tags, versions: await versionsOf('db-01') };

    // Retagging db-01 into scope (how the escape started on 3da30e4).
    expect((await call(hostRoute.PATCH, { method: 'PATCH', token: scoped, params: { name: 'db-01' }, json: { tags: ['web'] } })).status).toBe(403);
    expect((await call(bulkRoute.POST, { method: 'POST', token: scoped, json: { hosts: ['db-01'], addTags: ['web'] } })).status).toBe(403);
    // Rewriting its config and reading it.
    expect((await call(configRoute.PUT, { method: 'PUT', token: scoped, params: { name: 'db-01' }, json: { module: '{ }', baseVersion: 1 } })).status).toBe(403);
    expect((await call(configRoute.GET, { token: scoped, params: { name: 'db-01' } })).status).toBe(403);
    // Moving a host it may touch out of its tags, or making one outside them.
    expect((await call(hostRoute.PATCH, { method: 'PATCH', token: scoped, params: { name: 'web-01' }, json: { tags: ['db'] } })).status).toBe(403);
    expect((await call(hostsRoute.POST, { method: 'POST', token: scoped, json: { name: 'db-02', tags: ['db'] } })).status).toBe(403);
    // The same through the server actions, with a token's caller.
    const { callerFromApiToken } = await import('@/lib/auth/api-tokens');
    const tokenCaller = await callerFromApiToken(scoped);
    const viaAction = await hostActions.updateHostAction.meta.run(tokenCaller, { host: 'db-01', tags: ['web'] });
    expect(viaAction).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    expect((await hostRow('db-01')).tags).toEqual(before.tags);
    expect(await versionsOf('db-01')).toBe(before.versions);
    expect((await call(hostRoute.GET, { token: fx.members.admin.token, params: { name: 'db-02' } })).status).toBe(404);

    // Inside its tags it works, and its host list shows only its tags.
    expect((await call(hostRoute.PATCH, { method: 'PATCH', token: scoped, params: { name: 'web-01' }, json: { tags: ['web', 'edge'] } })).status).toBe(200);
    const list = await call(hostsRoute.GET, { token: scoped });
    expect(list.json.hosts.map((h: { name: string }) => h.name)).toEqual(['web-01']);
  });
});

describe('finding 4: reviewing needs what its effect needs', () => {
  let requestId: string;
  beforeAll(async () => {
    const res = await call(requestsRoute.POST, { method: 'POST', token: fx.members.requester.token, json: { host: 'desk-01', kind: 'change', text: 'open port 8080', reason: 'dev server' } });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    requestId = res.json.id;
  });

  it('requests.review alone cannot write a config by editing and approving, nor start a build by previewing', async () => {
    const reviewOnly = await token(['requests.review', 'fleet.read']);
    const versions = await versionsOf('desk-01');
    expect((await call(configRoute.PUT, { method: 'PUT', token: reviewOnly, params: { name: 'desk-01' }, json: { module: '{ }', baseVersion: 1 } })).status).toBe(403);
    const approve = await call(approveRoute.POST, { method: 'POST', token: reviewOnly, params: { id: requestId }, json: { module: '{ networking.firewall.allowedTCPPorts = [ 8080 ]; }' } });
    expect(approve.status).toBe(403);
    expect((await call(previewRoute.POST, { method: 'POST', token: reviewOnly, params: { id: requestId } })).status).toBe(403);
    expect(await versionsOf('desk-01')).toBe(versions);
    expect((await db().select().from(requests).where(eq(requests.id, requestId)))[0]?.status).toBe('submitted');
  });

  it('without deployments.write, approving (which deploys) is refused and nothing is written', async () => {
    const noDeploy = await token(['requests.review', 'hosts.write', 'builds.run', 'fleet.read']);
    const versions = await versionsOf('desk-01');
    const deploymentsBefore = await deploymentCount();
    const approve = await call(approveRoute.POST, { method: 'POST', token: noDeploy, params: { id: requestId }, json: { module: '{ }' } });
    expect(approve.status).toBe(403);
    expect(approve.json.error.message).toMatch(/deployments\.write/);
    expect(await versionsOf('desk-01')).toBe(versions);
    expect(await deploymentCount()).toBe(deploymentsBefore);
    // The page's action is held to the same rule.
    const { callerFromApiToken } = await import('@/lib/auth/api-tokens');
    const viaAction = await requestActions.approveRequestAction.meta.run(await callerFromApiToken(noDeploy), { id: requestId, module: '{ }' });
    expect(viaAction).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });
});

describe('finding 9: a requester cannot tell other people\'s hosts from hosts that do not exist', () => {
  it('the same 404 for an unassigned host as for no host at all, on every host path', async () => {
    const requester = fx.members.requester.token;
    for (const handler of [hostRoute.GET, configRoute.GET]) {
      const other = await call(handler, { token: requester, params: { name: 'desk-02' } });
      const none = await call(handler, { token: requester, params: { name: 'desk-99' } });
      expect(other.status).toBe(404);
      expect(none.status).toBe(404);
      expect(other.json.error.message.replace('desk-02', 'X')).toBe(none.json.error.message.replace('desk-99', 'X'));
    }
    const file = await call(requestsRoute.POST, { method: 'POST', token: requester, json: { host: 'desk-02', kind: 'change', text: 'something', reason: 'because' } });
    expect(file.status).toBe(404);
    expect((await call(hostRoute.GET, { token: requester, params: { name: 'desk-01' } })).status).toBe(200);
  });
});

describe('finding 7: control characters are a 400, never a 500', () => {
  it('a NUL in a host name, a search, a request text or a config message', async () => {
    const admin = fx.members.admin.token;
    const cases = [
      await call(hostRoute.GET, { token: admin, params: { name: 'web\u000001' } }),
      await call(hostsRoute.GET, { token: admin, path: '/api/v1/hosts?q=web%00' }),
      await call(requestsRoute.POST, { method: 'POST', token: fx.members.requester.token, json: { host: 'desk-01', kind: 'change', text: 'nul \u0000 here', reason: 'x' } }),
      await call(configRoute.PUT, { method: 'PUT', token: admin, params: { name: 'web-01' }, json: { module: '{ }', baseVersion: 1, message: 'a\u0000b' } }),
    ];
    for (const res of cases) {
      expect(res.status, JSON.stringify(res.json)).toBe(400);
      expect(res.json.error.message).toMatch(/Control characters/);
    }
    const action = await hostActions.saveConfigAction.meta.run(fx.members.admin.caller, { host: 'web-01', module: '{ }', baseVersion: 1, message: 'a\u0000b' });
    expect(action).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
  });

  describe('an agent hello with a NUL', () => {
    let harness: Harness;
    beforeAll(async () => {
      harness = await startHarness({ driver: false });
    });
    afterAll(async () => harness?.close());

    it('closes that socket as a protocol error (1008), and the server goes on', async () => {
      const { credential } = await enrollHost({ token: await newHost('nul-01', ['web']) });
      const ws = new WebSocket(`${harness.base.replace('http', 'ws')}${AGENT_WS_PATH}`, SUBPROTOCOL, { headers: { authorization: `Bearer ${credential}` } });
      await new Promise((resolve) => ws.once('open', resolve));
      const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
      ws.send(JSON.stringify({ type: 'hello', id: 'h1', agentVersion: '0.1\u00000', currentSystem: null, bootedSystem: null, nixosVersion: null }));
      const { code, reason } = await closed;
      expect(code).toBe(1008);
      expect(reason).toMatch(/agentVersion/);
      expect((await hostRow('nul-01')).agentVersion).toBeNull();

      // A well-formed hello on a new socket is welcomed.
      const again = new WebSocket(`${harness.base.replace('http', 'ws')}${AGENT_WS_PATH}`, SUBPROTOCOL, { headers: { authorization: `Bearer ${credential}` } });
      const welcome = new Promise<{ type: string }>((resolve) => again.on('message', (data) => resolve(JSON.parse(String(data)))));
      await new Promise((resolve) => again.once('open', resolve));
      again.send(JSON.stringify({ type: 'hello', id: 'h2', agentVersion: '0.1.0', currentSystem: null, bootedSystem: null, nixosVersion: null }));
      expect((await welcome).type).toBe('welcome');
      again.close();
    });
  });
});
