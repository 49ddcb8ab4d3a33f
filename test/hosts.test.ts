// The hosts, configs and shared modules API, with real Nix for syntax checks.
import { and, eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import * as bulkHosts from '@/app/api/v1/bulk/hosts/route';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hostRevert from '@/app/api/v1/hosts/[name]/config/revert/route';
import * as hostVersions from '@/app/api/v1/hosts/[name]/config/versions/route';
import * as hostEnroll from '@/app/api/v1/hosts/[name]/enroll-token/route';
import * as hostByName from '@/app/api/v1/hosts/[name]/route';
import * as hosts from '@/app/api/v1/hosts/route';
import * as moduleByName from '@/app/api/v1/modules/[name]/route';
import * as modules from '@/app/api/v1/modules/route';
import { hashSecret } from '@/lib/auth/secrets';
import { db } from '@/lib/db/client';
import { auditEvents, enrollTokens, hostConfigs, hosts as hostsTable } from '@/lib/db/schema';
import { call, makeOrg, type OrgFixture } from './fixtures';

let fx: OrgFixture;
let op: string;

beforeAll(async () => {
  fx = await makeOrg();
  op = fx.members.operator.token;
});

async function create(name: string, extra: Record<string, unknown> = {}) {
  const res = await call(hosts.POST, { method: 'POST', token: op, json: { name, ...extra } });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json;
}

const config = (name: string) => call(hostConfig.GET, { token: op, params: { name } });
const put = (name: string, body: Record<string, unknown>, token = op) => call(hostConfig.PUT, { method: 'PUT', token, params: { name }, json: body });

describe('hosts', () => {
  it('are created with a first config version and a one-time enroll token stored hashed', async () => {
    const created = await create('web-01', { tags: ['web', 'prod', 'web'], assignees: [fx.members.requester.email] });
    expect(created.enrollToken).toMatch(/^enr_/);
    const [token] = await db().select().from(enrollTokens).where(eq(enrollTokens.tokenHash, hashSecret(created.enrollToken)));
    expect(token?.usedAt).toBeNull();
    const detail = await call(hostByName.GET, { token: op, params: { name: 'web-01' } });
    expect(detail.status).toBe(200);
    expect(detail.json).toMatchObject({ name: 'web-01', tags: ['prod', 'web'], status: 'never-seen', configVersion: 1, assignees: [fx.members.requester.email] });
    expect((await config('web-01')).json.module).toContain('networking.hostName = "web-01"');
  });

  it('refuse duplicates, bad names, non-members as assignees, and bad modules', async () => {
    expect((await call(hosts.POST, { method: 'POST', token: op, json: { name: 'web-01' } })).status).toBe(409);
    expect((await call(hosts.POST, { method: 'POST', token: op, json: { name: '-bad_name' } })).status).toBe(400);
    const stranger = await call(hosts.POST, { method: 'POST', token: op, json: { name: 'web-09', assignees: ['nobody@example.com'] } });
    expect(stranger.status).toBe(422);
    const broken = await call(hosts.POST, { method: 'POST', token: op, json: { name: 'web-10', module: '{ a = ; }' } });
    expect(broken.status).toBe(422);
    expect(broken.json.error.details).toMatchObject({ line: 1, column: 7 });
    const [n] = await db().select({ n: sql<number>`count(*)::int` }).from(hostsTable).where(eq(hostsTable.orgId, fx.org.id));
    expect(n?.n).toBe(1);
  });

  it('are listed with search, tag filter, sorting and pagination', async () => {
    for (const name of ['db-01', 'db-02', 'cache-01']) await create(name, { tags: name.startsWith('db') ? ['db', 'prod'] : ['cache'] });
    const all = await call(hosts.GET, { token: op, path: '/api/v1/hosts?sort=name&dir=desc' });
    expect(all.json.hosts.map((h: { name: string }) => h.name)).toEqual(['web-01', 'db-02', 'db-01', 'cache-01']);
    const search = await call(hosts.GET, { token: op, path: '/api/v1/hosts?q=db' });
    expect(search.json.total).toBe(2);
    const tagged = await call(hosts.GET, { token: op, path: '/api/v1/hosts?tag=prod&tag=db' });
    expect(tagged.json.hosts.map((h: { name: string }) => h.name)).toEqual(['db-01', 'db-02']);
    const page2 = await call(hosts.GET, { token: op, path: '/api/v1/hosts?pageSize=3&page=2' });
    expect(page2.json).toMatchObject({ total: 4, page: 2, pageSize: 3 });
    expect(page2.json.hosts.map((h: { name: string }) => h.name)).toEqual(['web-01']);
    const wildcard = await call(hosts.GET, { token: op, path: '/api/v1/hosts?q=%25' });
    expect(wildcard.json.total).toBe(0);
    expect((await call(hosts.GET, { token: op, path: '/api/v1/hosts?pageSize=100000' })).status).toBe(400);
  });

  it('are visible to a requester only when assigned to them', async () => {
    const req = fx.members.requester.token;
    const list = await call(hosts.GET, { token: req });
    expect(list.json.hosts.map((h: { name: string }) => h.name)).toEqual(['web-01']);
    expect((await call(hostByName.GET, { token: req, params: { name: 'web-01' } })).status).toBe(200);
    // Another person's host is the same 404 as a host that does not exist: no enumeration.
    expect((await call(hostByName.GET, { token: req, params: { name: 'db-01' } })).status).toBe(404);
    expect((await call(hostConfig.GET, { token: req, params: { name: 'db-01' } })).status).toBe(404);
    expect((await call(hostByName.GET, { token: op, params: { name: 'nope' } })).status).toBe(404);
  });

  it('are renamed and re-tagged, with before/after in the audit log', async () => {
    const res = await call(hostByName.PATCH, { method: 'PATCH', token: op, params: { name: 'cache-01' }, json: { name: 'cache-02', tags: ['cache', 'eu'] } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ name: 'cache-02', tags: ['cache', 'eu'] });
    const [event] = await db()
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.orgId, fx.org.id), eq(auditEvents.action, 'host.rename')));
    expect(event?.before).toMatchObject({ name: 'cache-01' });
    expect(event?.after).toMatchObject({ name: 'cache-02' });
    expect((await call(hostByName.PATCH, { method: 'PATCH', token: op, params: { name: 'cache-02' }, json: { name: 'db-01' } })).status).toBe(409);
  });

  it('are retired, which frees the name and keeps the history', async () => {
    await create('tmp-01');
    expect((await call(hostByName.DELETE, { method: 'DELETE', token: op, params: { name: 'tmp-01' } })).status).toBe(204);
    expect((await call(hostByName.GET, { token: op, params: { name: 'tmp-01' } })).status).toBe(404);
    await create('tmp-01');
    const rows = await db().select().from(hostsTable).where(and(eq(hostsTable.orgId, fx.org.id), eq(hostsTable.name, 'tmp-01')));
    expect(rows).toHaveLength(2);
  });

  it('get new enroll tokens that replace the old, and can have them revoked', async () => {
    const first = await call(hostEnroll.POST, { method: 'POST', token: op, params: { name: 'db-01' } });
    const second = await call(hostEnroll.POST, { method: 'POST', token: op, params: { name: 'db-01' } });
    expect(second.status).toBe(201);
    const [old] = await db().select().from(enrollTokens).where(eq(enrollTokens.tokenHash, hashSecret(first.json.token)));
    expect(old?.revokedAt).not.toBeNull();
    expect((await call(hostEnroll.DELETE, { method: 'DELETE', token: op, params: { name: 'db-01' } })).status).toBe(204);
    const [latest] = await db().select().from(enrollTokens).where(eq(enrollTokens.tokenHash, hashSecret(second.json.token)));
    expect(latest?.revokedAt).not.toBeNull();
  });
});

describe('host configs', () => {
  it('save as new versions; a syntax error is a 422 at the line and column and writes nothing', async () => {
    const base = (await config('web-01')).json.version as number;
    const bad = await put('web-01', { module: '{ pkgs, ... }:\n{\n  networking.hostName = "web-01"\n  services.nginx.enable = true;\n}\n', baseVersion: base });
    expect(bad.status).toBe(422);
    expect(bad.json.error.details).toMatchObject({ line: 4, column: 25 });
    expect(bad.json.error.message).toMatch(/line 4, column 25: syntax error/);
    expect((await config('web-01')).json.version).toBe(base);

    const good = await put('web-01', { module: '{ pkgs, ... }:\n{\n  networking.hostName = "web-01";\n}\n', packages: ['jq', 'hello', 'jq'], baseVersion: base, message: 'tidy' });
    expect(good.status).toBe(200);
    expect(good.json).toEqual({ version: base + 1, changed: true });
    const latest = (await config('web-01')).json;
    expect(latest).toMatchObject({ version: base + 1, packages: ['hello', 'jq'], message: 'tidy', author: fx.members.operator.email });
    const same = await put('web-01', { packages: ['hello', 'jq'], baseVersion: base + 1 });
    expect(same.json).toEqual({ version: base + 1, changed: false });
  });

  it('refuse a save on a stale base with both sides, and never overwrite', async () => {
    const v = (await config('db-01')).json.version as number;
    expect((await put('db-01', { module: '{ }\n', baseVersion: v })).status).toBe(200);
    const stale = await put('db-01', { module: '{ a = 1; }\n', baseVersion: v });
    expect(stale.status).toBe(409);
    expect(stale.json.error.details.latest).toMatchObject({ version: v + 1, module: '{ }\n' });
    expect(stale.json.error.details.yours).toMatchObject({ module: '{ a = 1; }\n' });
    expect((await config('db-01')).json.module).toBe('{ }\n');
  });

  it('keep every version, readable one by one, and revert as a new version', async () => {
    const versions = await call(hostVersions.GET, { token: op, params: { name: 'db-01' } });
    expect(versions.json.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const v1 = await call(hostConfig.GET, { token: op, params: { name: 'db-01' }, path: '/api/v1/hosts/db-01/config?version=1' });
    expect(v1.json.version).toBe(1);
    const reverted = await call(hostRevert.POST, { method: 'POST', token: op, params: { name: 'db-01' }, json: { toVersion: 1, baseVersion: 2 } });
    expect(reverted.json).toEqual({ version: 3, changed: true });
    const latest = (await config('db-01')).json;
    expect(latest.module).toBe(v1.json.module);
    expect(latest.message).toBe('Revert to version 1');
    expect((await call(hostRevert.POST, { method: 'POST', token: op, params: { name: 'db-01' }, json: { toVersion: 1, baseVersion: 2 } })).status).toBe(409);
    expect((await call(hostConfig.GET, { token: op, params: { name: 'db-01' }, path: '/api/v1/hosts/db-01/config?version=99' })).status).toBe(404);
  });

  it('a 2,000-line config validates and saves in under a second', async () => {
    const body = Array.from({ length: 1996 }, (_, i) => `  environment.etc."flotilla/line-${i}".text = "value ${i}";`).join('\n');
    const module = `{ config, pkgs, lib, ... }:\n{\n${body}\n  networking.hostName = "db-02";\n}\n`;
    expect(module.split('\n').length).toBeGreaterThanOrEqual(2000);
    const base = (await config('db-02')).json.version as number;
    const started = performance.now();
    const res = await put('db-02', { module, baseVersion: base });
    const elapsed = performance.now() - started;
    expect(res.status).toBe(200);
    console.log(`[measure] 2,000-line config validated and saved in ${elapsed.toFixed(0)} ms`);
    expect(elapsed).toBeLessThan(1000);
  });
});

describe('bulk changes', () => {
  it('apply tags and packages to many hosts with one audit event per host', async () => {
    const res = await call(bulkHosts.POST, { method: 'POST', token: op, json: { hosts: ['db-01', 'db-02'], addTags: ['backup'], removeTags: ['prod'], addPackages: ['htop'] } });
    expect(res.status).toBe(200);
    expect(res.json.hosts.map((h: { tags: string[] }) => h.tags)).toEqual([['backup', 'db'], ['backup', 'db']]);
    for (const name of ['db-01', 'db-02']) expect((await config(name)).json.packages).toContain('htop');
    const events = await db()
      .select({ action: auditEvents.action })
      .from(auditEvents)
      .where(and(eq(auditEvents.orgId, fx.org.id), sql`${auditEvents.action} like 'host.bulk.%'`));
    expect(events.filter((e) => e.action === 'host.bulk.tags')).toHaveLength(2);
    expect(events.filter((e) => e.action === 'host.bulk.packages')).toHaveLength(2);
  });

  it('change nothing when one host is unknown', async () => {
    const before = await db().select({ n: sql<number>`count(*)::int` }).from(hostConfigs);
    const res = await call(bulkHosts.POST, { method: 'POST', token: op, json: { hosts: ['db-01', 'ghost'], addPackages: ['curl'] } });
    expect(res.status).toBe(404);
    const after = await db().select({ n: sql<number>`count(*)::int` }).from(hostConfigs);
    expect(after[0]?.n).toBe(before[0]?.n);
  });
});

describe('shared modules', () => {
  it('are created, applied by tag, and versioned with conflicts and syntax checks', async () => {
    const created = await call(modules.POST, { method: 'POST', token: op, json: { name: 'ssh', tags: ['db'], text: '{ services.openssh.enable = true; }\n' } });
    expect(created.status).toBe(201);
    expect((await call(modules.POST, { method: 'POST', token: op, json: { name: 'ssh', text: '{ }' } })).status).toBe(409);
    const detail = await call(hostByName.GET, { token: op, params: { name: 'db-01' } });
    expect(detail.json.modules).toEqual([{ name: 'ssh', version: 1, tags: ['db'] }]);
    expect((await call(hostByName.GET, { token: op, params: { name: 'web-01' } })).json.modules).toEqual([]);

    const bad = await call(moduleByName.PUT, { method: 'PUT', token: op, params: { name: 'ssh' }, json: { text: '{ x = }', baseVersion: 1 } });
    expect(bad.status).toBe(422);
    const ok = await call(moduleByName.PUT, { method: 'PUT', token: op, params: { name: 'ssh' }, json: { text: '{ services.openssh.enable = false; }\n', baseVersion: 1 } });
    expect(ok.json).toEqual({ name: 'ssh', version: 2 });
    expect((await call(moduleByName.PUT, { method: 'PUT', token: op, params: { name: 'ssh' }, json: { text: '{ }', baseVersion: 1 } })).status).toBe(409);
    const got = await call(moduleByName.GET, { token: op, params: { name: 'ssh' }, path: '/api/v1/modules/ssh?version=1' });
    expect(got.json.text).toBe('{ services.openssh.enable = true; }\n');
    expect((await call(modules.GET, { token: fx.members.viewer.token })).json.modules).toHaveLength(1);
    expect((await call(moduleByName.DELETE, { method: 'DELETE', token: op, params: { name: 'ssh' } })).status).toBe(204);
    expect((await call(moduleByName.GET, { token: op, params: { name: 'ssh' } })).status).toBe(404);
  });
});

describe('who may write', () => {
  const writes = () => [
    () => call(hosts.POST, { method: 'POST', json: { name: 'x-01' } }),
    () => call(hostByName.PATCH, { method: 'PATCH', params: { name: 'web-01' }, json: { tags: ['x'] } }),
    () => call(hostByName.DELETE, { method: 'DELETE', params: { name: 'web-01' } }),
    () => call(hostConfig.PUT, { method: 'PUT', params: { name: 'web-01' }, json: { module: '{ }', baseVersion: 1 } }),
    () => call(hostRevert.POST, { method: 'POST', params: { name: 'web-01' }, json: { toVersion: 1, baseVersion: 1 } }),
    () => call(hostEnroll.POST, { method: 'POST', params: { name: 'web-01' } }),
    () => call(hostEnroll.DELETE, { method: 'DELETE', params: { name: 'web-01' } }),
    () => call(bulkHosts.POST, { method: 'POST', json: { hosts: ['web-01'], addTags: ['x'] } }),
    () => call(modules.POST, { method: 'POST', json: { name: 'm', text: '{ }' } }),
    () => call(moduleByName.PUT, { method: 'PUT', params: { name: 'm' }, json: { text: '{ }', baseVersion: 1 } }),
    () => call(moduleByName.DELETE, { method: 'DELETE', params: { name: 'm' } }),
  ];

  it('a requester gets 403 on every write, even to their own host, and nothing changes', async () => {
    const before = await db().select({ n: sql<number>`count(*)::int` }).from(auditEvents);
    for (const write of writes()) expect((await write()).status, write.toString()).toBe(401);
    // With credentials: requester and viewer are refused; nothing is audited because nothing happened.
    for (const role of ['requester', 'viewer'] as const) {
      const token = fx.members[role].token;
      for (const [method, handler, params, json] of [
        ['POST', hosts.POST, {}, { name: 'x-01' }],
        ['PATCH', hostByName.PATCH, { name: 'web-01' }, { tags: ['x'] }],
        ['DELETE', hostByName.DELETE, { name: 'web-01' }, undefined],
        ['PUT', hostConfig.PUT, { name: 'web-01' }, { module: '{ }', baseVersion: 1 }],
        ['POST', hostRevert.POST, { name: 'web-01' }, { toVersion: 1, baseVersion: 1 }],
        ['POST', hostEnroll.POST, { name: 'web-01' }, undefined],
        ['DELETE', hostEnroll.DELETE, { name: 'web-01' }, undefined],
        ['POST', bulkHosts.POST, {}, { hosts: ['web-01'], addTags: ['x'] }],
        ['POST', modules.POST, {}, { name: 'm', text: '{ }' }],
        ['PUT', moduleByName.PUT, { name: 'm' }, { text: '{ }', baseVersion: 1 }],
        ['DELETE', moduleByName.DELETE, { name: 'm' }, undefined],
      ] as const) {
        const res = await call(handler, { method, token, params, json });
        expect(res.status, `${role} ${method} ${JSON.stringify(params)}`).toBe(403);
      }
    }
    const after = await db().select({ n: sql<number>`count(*)::int` }).from(auditEvents);
    expect(after[0]?.n).toBe(before[0]?.n);
  });
});
