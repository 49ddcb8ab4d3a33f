// Cache pruning with real builds: old builds lose their cache entries, except what a
// host runs and paths shared with builds that stay.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hosts from '@/app/api/v1/hosts/route';
import { requestBuild } from '@/lib/builds/request-build';
import { findHost } from '@/lib/hosts/reach';
import { runBuild } from '@/lib/builds/run-build';
import { pruneCache } from '@/lib/cache/gc';
import { cacheDir, storeHashOf } from '@/lib/cache/storage';
import { db } from '@/lib/db/client';
import { buildPaths, builds, hosts as hostsTable } from '@/lib/db/schema';
import { call, makeOrg, type OrgFixture } from './fixtures';

let fx: OrgFixture;
let tmp: string;
const run = Math.random().toString(36).slice(2, 8);

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-gc-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  (await import('@/lib/env')).resetEnvCache();
  fx = await makeOrg();
});
afterAll(async () => rm(tmp, { recursive: true, force: true }));

async function buildWith(host: string, packages: string[], baseVersion: number) {
  const saved = await call(hostConfig.PUT, { method: 'PUT', token: fx.members.operator.token, params: { name: host }, json: { packages, baseVersion } });
  expect(saved.status).toBe(200);
  const { buildId } = await requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, host));
  expect(await runBuild(buildId)).toBe('built');
  const [row] = await db().select().from(builds).where(eq(builds.id, buildId));
  return row as typeof builds.$inferSelect;
}

const narinfo = (orgId: string, storePath: string) => path.join(cacheDir(orgId), `${storeHashOf(storePath)}.narinfo`);

describe('cache pruning', () => {
  it('drops old builds but keeps shared paths, running systems and the newest build', async () => {
    const name = `gc${run}-01`;
    await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name } });
    const old = await buildWith(name, ['hello', 'bat'], 1);
    const running = await buildWith(name, ['hello', 'fd'], 2);
    const newest = await buildWith(name, ['hello'], 3);
    const paths = async (b: typeof old) => (await db().select().from(buildPaths).where(eq(buildPaths.buildId, b.id))).map((p) => p.storePath);
    const oldPaths = await paths(old);
    const bat = oldPaths.find((p) => p.endsWith('-bat-0.24.0')) as string;
    const hello = oldPaths.find((p) => p.endsWith('-hello-2.12.1')) as string;
    const fd = (await paths(running)).find((p) => p.endsWith('-fd-10.2.0')) as string;

    // Both older builds are past retention; the host still runs the second one.
    const longAgo = new Date(Date.now() - 40 * 24 * 60 * 60 * 1000);
    await db().update(builds).set({ finishedAt: longAgo }).where(eq(builds.id, old.id));
    await db().update(builds).set({ finishedAt: longAgo }).where(eq(builds.id, running.id));
    await db().update(hostsTable).set({ currentSystem: running.storePath }).where(eq(hostsTable.name, name));

    const result = await pruneCache(fx.org.id);
    expect(result.builds).toBe(1);
    expect(existsSync(narinfo(fx.org.id, old.storePath as string))).toBe(false);
    expect(existsSync(narinfo(fx.org.id, bat))).toBe(false);
    expect(existsSync(narinfo(fx.org.id, hello))).toBe(true);
    expect(existsSync(narinfo(fx.org.id, fd))).toBe(true);
    expect(existsSync(narinfo(fx.org.id, running.storePath as string))).toBe(true);
    expect(existsSync(narinfo(fx.org.id, newest.storePath as string))).toBe(true);
    const [pruned] = await db().select().from(builds).where(eq(builds.id, old.id));
    expect(pruned?.prunedAt).not.toBeNull();
    expect(pruned?.log).toContain('pushed');
    expect((await pruneCache(fx.org.id)).builds).toBe(0);
  });
});
