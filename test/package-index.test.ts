// The package index, built with real Nix from the stand-in, searched in PostgreSQL.
import os from 'node:os';
import path from 'node:path';
import { count as rowCount, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hosts from '@/app/api/v1/hosts/route';
import * as packages from '@/app/api/v1/packages/route';
import { buildPackageIndex, parseSearchOutput } from '@/lib/packages/build-index';
import { db } from '@/lib/db/client';
import { packageIndex } from '@/lib/db/schema';
import { getPackages, indexStatus, searchPackages } from '@/lib/packages/search';
import { resolveNixpkgsSource } from '@/lib/packages/source';
import { call, makeOrg, type OrgFixture } from './fixtures';

let fx: OrgFixture;
const standin = resolveNixpkgsSource(null);

beforeAll(async () => {
  fx = await makeOrg();
});

describe('package index', () => {
  it('is built from the stand-in with real Nix, and a rebuild gives the same count', async () => {
    const count = await buildPackageIndex(standin);
    expect(count).toBeGreaterThanOrEqual(12);
    expect(await indexStatus('standin')).toMatchObject({ status: 'ready', packageCount: count });
  });

  it('is replaced, not added to, by a rebuild', async () => {
    const rows = () => db().select({ n: rowCount() }).from(packageIndex).where(eq(packageIndex.source, 'standin'));
    const [before] = await rows();
    await db().insert(packageIndex).values({ source: 'standin', attr: 'gone-from-nixpkgs', pname: 'gone', version: '1' });
    expect(await buildPackageIndex(standin)).toBe(before?.n);
    expect(await rows()).toEqual([{ n: before?.n }]);
    expect(await getPackages('standin', ['gone-from-nixpkgs', 'jq'])).toEqual([expect.objectContaining({ attr: 'jq', version: '1.7.1' })]);
  });

  it('records a source Nix cannot read as failed, with Nix\'s error', async () => {
    const missing = resolveNixpkgsSource(`path:${path.join(os.tmpdir(), 'flotilla-no-such-flake')}`);
    await expect(buildPackageIndex(missing)).rejects.toThrow(/error:/);
    const status = await indexStatus(missing.key);
    expect(status).toMatchObject({ status: 'failed', packageCount: 0 });
    expect(status?.error).toMatch(/^Indexing path:.*flotilla-no-such-flake failed: error:/);
    expect(await searchPackages(missing.key, 'hello')).toEqual([]);
  });

  it('finds packages by name prefix and by words of their description', async () => {
    expect((await searchPackages('standin', 'hel'))[0]).toMatchObject({ attr: 'hello', version: '2.12.1' });
    expect((await searchPackages('standin', 'rip regex')).map((p) => p.attr)).toEqual(['ripgrep']);
    expect((await searchPackages('standin', 'JSON processor')).map((p) => p.attr)).toContain('jq');
    expect((await searchPackages('standin', 'greeting')).map((p) => p.attr)).toContain('hello');
    expect(await searchPackages('standin', "'); drop table package_index; --")).toEqual([]);
    expect(await searchPackages('standin', '%')).toEqual([]);
    expect(await searchPackages('standin', '', 5)).toHaveLength(5);
  });

  it('is searchable through the API by anyone signed in, requesters included', async () => {
    const res = await call(packages.GET, { token: fx.members.requester.token, path: '/api/v1/packages?q=cow' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ source: 'standin', index: { status: 'ready' } });
    expect(res.json.packages[0]).toMatchObject({ attr: 'cowsay', description: expect.stringContaining('cow') });
  });

  it('refuses a package list with names the index does not know, and writes nothing', async () => {
    await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name: 'pkg-01' } });
    const res = await call(hostConfig.PUT, { method: 'PUT', token: fx.members.operator.token, params: { name: 'pkg-01' }, json: { packages: ['hello', 'helo'], baseVersion: 1 } });
    expect(res.status).toBe(422);
    expect(res.json.error.details).toEqual({ unknownPackages: ['helo'] });
    const latest = await call(hostConfig.GET, { token: fx.members.operator.token, params: { name: 'pkg-01' } });
    expect(latest.json.version).toBe(1);
  });

  it('reads the output of `nix search --json`', () => {
    const parsed = parseSearchOutput(JSON.stringify({ 'legacyPackages.x86_64-linux.python3Packages.requests': { pname: 'python3.12-requests', version: '2.32.3', description: null } }));
    expect(parsed).toEqual([{ attr: 'python3Packages.requests', pname: 'python3.12-requests', version: '2.32.3', description: '' }]);
  });
});
