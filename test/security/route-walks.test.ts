// Walks every route handler and every host-scoped server action found on disk with
// callers that must not get through (issue 14):
// - another organisation's admin, with the first organisation's ids: 404, nothing written;
// - a token limited to the tag `web`, on a host tagged `db`: 403, nothing written;
// - a requester, on a host not assigned to them: the same answer as for a host that
//   does not exist (404, or 403 where the role lacks the permission anyway).
// A new route is walked without being listed here; an id segment this file has no
// object for fails the walk until one is added.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import * as hostsRoute from '@/app/api/v1/hosts/route';
import * as modulesRoute from '@/app/api/v1/modules/route';
import * as requestsRoute from '@/app/api/v1/requests/route';
import { callerFromApiToken, createApiToken } from '@/lib/auth/api-tokens';
import { ALL_PERMISSIONS } from '@/lib/auth/permissions';
import { db } from '@/lib/db/client';
import { alertRules, builds, deployments, deploymentTargets, hosts, savedFilters, stateSnapshots, webhooks } from '@/lib/db/schema';
import { loadActions, loadRoutes, segmentsOf, type LoadedRoute } from '../entry-points';
import { call, makeOrg, type OrgFixture } from '../fixtures';

let a: OrgFixture; // the organisation whose objects are walked
let b: OrgFixture; // another organisation
/** Route segment → an object of organisation A, by the route's first path segment. */
let ids: Record<string, Record<string, string>>;
let tagLimited: string;

/** Bodies that pass validation, so a route reaches its lookups (refusing an empty body proves nothing). */
const BODIES: Record<string, unknown> = {
  'PUT modules/[name]': { text: '{ }', baseVersion: 1 },
  'PATCH users/[id]': { role: 'viewer' },
  'POST requests/[id]/comments': { body: 'hello' },
  'POST requests/[id]/deny': { comment: 'no' },
  'POST deployments/[id]/targets/[targetId]/decide': { choices: { 'check-1': 'abort' } },
  'PUT hosts/[name]/config': { module: '{ }', baseVersion: 1 },
  'PATCH hosts/[name]': { tags: ['web'] },
  'POST hosts/[name]/config/revert': { toVersion: 1, baseVersion: 1 },
};

function routeKey(r: LoadedRoute) {
  return `${r.method} ${r.file.replace(/^api\/v1\//, '').replace(/\/route\.ts$/, '')}`;
}

/** The first path segment after /api/v1 names the kind of object its ids belong to. */
function paramsFor(r: LoadedRoute, hostName: string): Record<string, string> | null {
  const rel = r.file.replace(/^api\/v1\//, '');
  const kind = rel.split('/')[0] as string;
  const params: Record<string, string> = {};
  for (const segment of segmentsOf(r.file)) {
    if (kind === 'hosts' && segment === 'name') params[segment] = hostName;
    else {
      const value = ids[kind]?.[segment];
      if (!value) return null;
      params[segment] = value;
    }
  }
  return params;
}

/** Queries a route requires, by route; ids of organisation A. */
const queryFor = (key: string) => (key === 'GET builds/[id]/diff' ? `?against=${ids.builds!.id}` : '');

async function request(r: LoadedRoute, token: string, params: Record<string, string>) {
  const key = routeKey(r);
  const body = BODIES[key] ?? (['POST', 'PUT', 'PATCH'].includes(r.method) ? {} : undefined);
  return call(r.handler, { method: r.method, token, params, json: body, path: `/api/v1/walk${queryFor(key)}` });
}

/** A digest of every row of organisation A (tables with an org_id, and host children), to prove nothing was written. */
async function digestOfA(): Promise<string> {
  const tables = await db().execute<{ table_name: string }>(
    sql`select table_name from information_schema.columns where table_schema = 'public' and column_name = 'org_id' order by table_name`,
  );
  const parts: string[] = [];
  for (const { table_name } of tables) {
    // A token's last use is bookkeeping of the token walking, not a write by it.
    const [row] = await db().execute<{ d: string | null }>(
      sql`select md5(string_agg((to_jsonb(t) - 'last_used_at')::text, '|' order by (to_jsonb(t) - 'last_used_at')::text)) as d from ${sql.identifier(table_name)} t where t.org_id = ${a.org.id}`,
    );
    parts.push(`${table_name}:${row?.d ?? '-'}`);
  }
  for (const child of ['host_configs', 'host_assignees', 'deployment_targets', 'enroll_tokens']) {
    const [row] = await db().execute<{ d: string | null }>(
      sql`select md5(string_agg(t::text, '|' order by t::text)) as d from ${sql.identifier(child)} t where t.host_id in (select id from hosts where org_id = ${a.org.id})`,
    );
    parts.push(`${child}:${row?.d ?? '-'}`);
  }
  return parts.join('\n');
}

beforeAll(async () => {
  [a, b] = await Promise.all([makeOrg(), makeOrg()]);
  const admin = a.members.admin.token;
  for (const [name, tags, assignees] of [
    ['web-01', ['web'], []],
    ['db-01', ['db'], []],
    ['desk-01', ['desk'], [a.members.requester.email]],
    ['desk-02', ['desk'], []],
  ] as const) {
    const res = await call(hostsRoute.POST, { method: 'POST', token: admin, json: { name, tags, assignees } });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
  }
  expect((await call(modulesRoute.POST, { method: 'POST', token: admin, json: { name: 'shared', tags: ['web'], text: '{ }' } })).status).toBe(201);
  const filed = await call(requestsRoute.POST, { method: 'POST', token: a.members.requester.token, json: { host: 'desk-01', kind: 'change', text: 'more swap', reason: 'builds' } });
  expect(filed.status, JSON.stringify(filed.json)).toBe(201);

  const [db01] = await db().select().from(hosts).where(sql`${hosts.orgId} = ${a.org.id} and ${hosts.name} = 'db-01'`);
  const hostId = db01!.id;
  const [build] = await db().insert(builds).values({ orgId: a.org.id, hostId, configVersion: 1, inputHash: 'walk', status: 'succeeded' }).returning();
  // A deployment that could still move (rolling, a target waiting for a decision): a missing check would change it.
  const [deployment] = await db().insert(deployments).values({ orgId: a.org.id, strategy: {}, source: 'api', status: 'rolling' }).returning();
  const [target] = await db()
    .insert(deploymentTargets)
    .values({ deploymentId: deployment!.id, hostId, phase: 'needs-decision', checks: [{ id: 'check-1', check: 'c', level: 'error', message: 'm', resolutions: [{ id: 'abort', label: 'Abort' }] }] })
    .returning();
  const [webhook] = await db().insert(webhooks).values({ orgId: a.org.id, name: 'hook', url: 'https://hooks.example.com/x', secretEnc: 'sealed' }).returning();
  const [rule] = await db().insert(alertRules).values({ orgId: a.org.id, name: 'offline', kind: 'host-offline', threshold: 10 }).returning();
  const [filter] = await db().insert(savedFilters).values({ orgId: a.org.id, userId: a.members.admin.id, name: 'mine', query: {} }).returning();
  const snapshotId = randomUUID();
  await db().insert(stateSnapshots).values({ id: snapshotId, orgId: a.org.id, hostId, unit: 'data', kind: 'directory', hash: 'a'.repeat(64), size: 1, reason: 'manual', takenAt: new Date() });
  const tokenOfA = await createApiToken(a.members.operator.caller, { name: 'walked', scopes: ['fleet.read'] });

  ids = {
    builds: { id: build!.id },
    deployments: { id: deployment!.id, targetId: target!.id },
    requests: { id: filed.json.id },
    webhooks: { id: webhook!.id },
    'alert-rules': { id: rule!.id },
    'saved-filters': { id: filter!.id },
    tokens: { id: tokenOfA.id },
    users: { id: a.members.operator.id },
    modules: { name: 'shared' },
    hosts: { id: snapshotId },
  };
  tagLimited = (await createApiToken(a.members.admin.caller, { name: 'web only', scopes: [...ALL_PERMISSIONS], hostTags: ['web'] })).token;
});

describe("another organisation's admin, with this organisation's ids", () => {
  it('gets 404 from every route that takes an id, and writes nothing', async () => {
    const routes = (await loadRoutes()).filter((r) => r.handler.meta.access !== 'public' && segmentsOf(r.file).length > 0 && r.file.startsWith('api/v1/'));
    expect(routes.length).toBeGreaterThan(30);
    const before = await digestOfA();
    const wrong: string[] = [];
    for (const r of routes) {
      const params = paramsFor(r, 'db-01');
      if (!params) {
        wrong.push(`${routeKey(r)}: no object of organisation A for its segments (add one to the walk)`);
        continue;
      }
      const res = await request(r, b.members.admin.token, params);
      if (res.status !== 404) wrong.push(`${routeKey(r)}: ${res.status} ${JSON.stringify(res.json).slice(0, 200)}`);
    }
    expect(wrong).toEqual([]);
    expect(await digestOfA()).toBe(before);
  });
});

describe('a token limited to hosts tagged web', () => {
  it('gets 403 from every host-scoped route on a db host, and writes nothing', async () => {
    const routes = (await loadRoutes()).filter((r) => r.handler.meta.host);
    expect(routes.length).toBeGreaterThan(15);
    const before = await digestOfA();
    const wrong: string[] = [];
    for (const r of routes) {
      const res = await request(r, tagLimited, paramsFor(r, 'db-01') ?? {});
      if (res.status !== 403) wrong.push(`${routeKey(r)}: ${res.status} ${JSON.stringify(res.json).slice(0, 200)}`);
    }
    expect(wrong).toEqual([]);
    expect(await digestOfA()).toBe(before);
  });

  it('gets forbidden from every host-scoped server action on a db host, and writes nothing', async () => {
    const actions = (await loadActions()).filter((x) => x.meta?.host);
    expect(actions.length).toBeGreaterThan(5);
    const caller = await callerFromApiToken(tagLimited);
    const before = await digestOfA();
    const wrong: string[] = [];
    for (const { name, meta } of actions) {
      const res = await meta!.run(caller, { host: 'db-01' });
      if (res?.ok !== false || res.error.code !== 'forbidden') wrong.push(`${name}: ${JSON.stringify(res).slice(0, 200)}`);
    }
    expect(wrong).toEqual([]);
    expect(await digestOfA()).toBe(before);
  });

  it('every route or action that names a host in its path or input declares it host-scoped', async () => {
    const undeclared = (await loadRoutes()).filter((r) => r.file.startsWith('api/v1/hosts/[name]/') && !r.handler.meta.host).map(routeKey);
    expect(undeclared).toEqual([]);
    // Actions whose input has a `host` field (host-scoped by name) go through the wrapper's resolution.
    const actions = await loadActions();
    const unresolved: string[] = [];
    for (const x of actions) {
      if (!x.meta || x.meta.host) continue;
      const res = await x.meta.run(await callerFromApiToken(tagLimited), { host: 'db-01' });
      // An action that takes a host name without declaring it would reach the handler (or fail on other fields): it must not succeed.
      if (res?.ok) unresolved.push(x.name);
    }
    expect(unresolved).toEqual([]);
  });
});

describe('a requester on a host not assigned to them', () => {
  it('gets the same answer as for a host that does not exist, from every host-scoped route and action', async () => {
    const requester = a.members.requester;
    const wrong: string[] = [];
    for (const r of (await loadRoutes()).filter((x) => x.handler.meta.host)) {
      const other = await request(r, requester.token, paramsFor(r, 'desk-02') ?? {});
      const none = await request(r, requester.token, paramsFor(r, 'desk-99') ?? {});
      if (other.status !== none.status || other.json?.error?.code !== none.json?.error?.code) {
        wrong.push(`${routeKey(r)}: unassigned ${other.status}, missing ${none.status}`);
      } else if (other.status !== 404 && other.status !== 403) wrong.push(`${routeKey(r)}: ${other.status}`);
    }
    for (const { name, meta } of (await loadActions()).filter((x) => x.meta?.host)) {
      const other = await meta!.run(requester.caller, { host: 'desk-02' });
      const none = await meta!.run(requester.caller, { host: 'desk-99' });
      const code = (s: typeof other) => (s?.ok === false ? s.error.code : 'ok');
      if (code(other) !== code(none) || !['not_found', 'forbidden'].includes(code(other))) wrong.push(`${name}: unassigned ${code(other)}, missing ${code(none)}`);
    }
    expect(wrong).toEqual([]);
  });
});
