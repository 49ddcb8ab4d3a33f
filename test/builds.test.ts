// Builds and the binary cache, end to end with real Nix: build a host's system from
// the stand-in nixpkgs, push it signed to the cache, serve it over HTTP with the
// same handler server.ts uses, and pull it into a separate store.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hostByName from '@/app/api/v1/hosts/[name]/route';
import * as hosts from '@/app/api/v1/hosts/route';
import * as buildDiff from '@/app/api/v1/builds/[id]/diff/route';
import * as buildById from '@/app/api/v1/builds/[id]/route';
import { enrollHost } from '@/lib/agents/credentials';
import { requestBuild } from '@/lib/builds/request-build';
import { findHost } from '@/lib/hosts/reach';
import { claimBuild, runBuild } from '@/lib/builds/run-build';
import { ensureCacheKey } from '@/lib/cache/keys';
import { handleCacheRequest } from '@/lib/cache/serve';
import { cacheDir } from '@/lib/cache/storage';
import { db } from '@/lib/db/client';
import { builds, hosts as hostsTable } from '@/lib/db/schema';
import { runNix } from '@/lib/nix/run';
import { call, makeOrg, type OrgFixture } from './fixtures';

let fx: OrgFixture;
let server: http.Server;
let cacheUrl: string;
let tmp: string;
// Unique names give new system derivations, so each run really builds (the store outlives test runs).
const run = Math.random().toString(36).slice(2, 8);
const h = (n: string) => `b${run}-${n}`;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-builds-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  const { resetEnvCache } = await import('@/lib/env');
  resetEnvCache();
  fx = await makeOrg();
  server = http.createServer((req, res) => void handleCacheRequest(req, res, (req.url ?? '/').split('?')[0] as string));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  cacheUrl = `http://127.0.0.1:${address.port}/cache`;
});

afterAll(async () => {
  server?.close();
  await rm(tmp, { recursive: true, force: true });
});

const op = () => fx.members.operator.token;

async function hostWithPackages(name: string, packages: string[]) {
  const created = await call(hosts.POST, { method: 'POST', token: op(), json: { name } });
  expect(created.status).toBe(201);
  const saved = await call(hostConfig.PUT, { method: 'PUT', token: op(), params: { name }, json: { packages, baseVersion: 1, message: 'packages' } });
  expect(saved.status, JSON.stringify(saved.json)).toBe(200);
  return created.json.enrollToken as string;
}

/** `nix copy` from our cache into a fresh chroot store, as an agent would. */
async function pull(storePath: string, opts: { publicKey: string; credential?: string }) {
  const store = await mkdtemp(path.join(tmp, 'store-'));
  const netrc = path.join(store, 'netrc');
  await writeFile(netrc, opts.credential ? `machine 127.0.0.1 login host password ${opts.credential}\n` : '', { mode: 0o600 });
  // Asynchronously: the cache server answering this runs in the same process.
  const result = await runNix('nix', ['copy', '--from', cacheUrl, '--to', store, '--option', 'trusted-public-keys', opts.publicKey, '--option', 'netrc-file', netrc, storePath], {
    timeoutMs: 120_000,
  });
  return { code: result.code, stderr: result.stderr, store };
}

describe('builds', () => {
  let first: { buildId: string; storePath: string; credential: string };

  it('build a host from the stand-in, push it signed to the cache, and let its own agent pull it', async () => {
    const enrollToken = await hostWithPackages(h('01'), ['hello']);
    const { buildId, reused } = await requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, h('01')));
    expect(reused).toBe(false);
    expect(await runBuild(buildId)).toBe('built');

    const view = await call(buildById.GET, { token: op(), params: { id: buildId } });
    expect(view.json).toMatchObject({ status: 'succeeded', host: h('01') });
    // Progress came from Nix's internal-json events: the system derivation was counted.
    expect(view.json.progress).toMatchObject({ stage: 'done', builds: { done: expect.any(Number), expected: expect.any(Number) } });
    expect((view.json.progress as { builds: { expected: number } }).builds.expected).toBeGreaterThanOrEqual(1);
    const storePath: string = view.json.storePath;
    expect(storePath).toMatch(new RegExp(`^/nix/store/[a-z0-9]{32}-nixos-system-${h('01')}`));
    expect(view.json.closureSize).toBeGreaterThan(0);
    expect(existsSync(path.join(cacheDir(fx.org.id), `${path.basename(storePath).slice(0, 32)}.narinfo`))).toBe(true);

    const { credential } = await enrollHost({ token: enrollToken });
    const key = await ensureCacheKey(fx.org.id);
    const ok = await pull(storePath, { publicKey: key.publicKey, credential });
    expect(ok.stderr).not.toMatch(/error/);
    expect(ok.code).toBe(0);
    expect(existsSync(path.join(ok.store, storePath, 'bin', 'switch-to-configuration'))).toBe(true);
    expect(existsSync(path.join(ok.store, storePath, 'sw', 'bin', 'hello'))).toBe(true);
    first = { buildId, storePath, credential };
  });

  it('a pull trusting another key is refused', async () => {
    const wrong = 'someone-else-1:' + Buffer.alloc(32, 7).toString('base64');
    const res = await pull(first.storePath, { publicKey: wrong, credential: first.credential });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/lacks a valid signature/);
  });

  it("a host's credential cannot read another host's closure, and anonymous callers nothing", async () => {
    await hostWithPackages(h('02'), ['jq', 'cowsay']);
    const other = await requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, h('02')));
    expect(await runBuild(other.buildId)).toBe('built');
    const [row] = await db().select().from(builds).where(eq(builds.id, other.buildId));
    const hash = path.basename(row?.storePath as string).slice(0, 32);
    const basic = `Basic ${Buffer.from(`host:${first.credential}`).toString('base64')}`;
    const theirs = await fetch(`${cacheUrl}/${hash}.narinfo`, { headers: { authorization: basic } });
    expect(theirs.status).toBe(403);
    const mine = await fetch(`${cacheUrl}/${path.basename(first.storePath).slice(0, 32)}.narinfo`, { headers: { authorization: basic } });
    expect(mine.status).toBe(200);
    expect(await mine.text()).toMatch(/^Sig: flotilla-/m);
    expect((await fetch(`${cacheUrl}/nix-cache-info`)).status).toBe(401);
    const operator = await fetch(`${cacheUrl}/${hash}.narinfo`, { headers: { authorization: `Bearer ${fx.members.operator.token}` } });
    expect(operator.status).toBe(200);
    const viewer = await fetch(`${cacheUrl}/${hash}.narinfo`, { headers: { authorization: `Bearer ${fx.members.viewer.token}` } });
    expect(viewer.status).toBe(403);
  });

  it('serves NAR files with ETag and byte ranges', async () => {
    const hash = path.basename(first.storePath).slice(0, 32);
    const auth = { authorization: `Bearer ${fx.members.operator.token}` };
    const narinfo = await (await fetch(`${cacheUrl}/${hash}.narinfo`, { headers: auth })).text();
    const url = /^URL: (.+)$/m.exec(narinfo)?.[1] as string;
    const full = await fetch(`${cacheUrl}/${url}`, { headers: auth });
    expect(full.status).toBe(200);
    const etag = full.headers.get('etag') as string;
    const body = Buffer.from(await full.arrayBuffer());
    const part = await fetch(`${cacheUrl}/${url}`, { headers: { ...auth, range: 'bytes=0-9' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(body.subarray(0, 10));
    // fetch() adds `cache-control: no-cache` to conditional requests unless told otherwise.
    expect((await fetch(`${cacheUrl}/${url}`, { headers: { ...auth, 'if-none-match': etag, 'cache-control': 'max-age=0' } })).status).toBe(304);
  });

  it('diffs any two builds', async () => {
    const second = (await db().select({ id: builds.id }).from(builds).innerJoin(hostsTable, eq(hostsTable.id, builds.hostId)).where(eq(hostsTable.name, h('02'))))[0];
    const res = await call(buildDiff.GET, { token: op(), params: { id: second?.id as string }, path: `/api/v1/builds/x/diff?against=${first.buildId}` });
    expect(res.status).toBe(200);
    expect(res.json.added.map((p: { pname: string }) => p.pname)).toEqual(expect.arrayContaining(['cowsay', 'jq']));
    expect(res.json.removed.map((p: { pname: string }) => p.pname)).toContain('hello');
  });

  it('identical inputs reuse the build; two workers racing on one build run it once', async () => {
    const again = await requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, h('01')));
    expect(again).toMatchObject({ buildId: first.buildId, reused: true });

    await hostWithPackages(h('03'), ['tree']);
    const [a, b] = await Promise.all([requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, h('03'))), requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, h('03')))]);
    expect(a.buildId).toBe(b.buildId);
    const outcomes = await Promise.all([runBuild(a.buildId, 'worker-a'), runBuild(a.buildId, 'worker-b')]);
    expect(outcomes.sort()).toEqual(['built', 'skipped']);
    expect(await claimBuild(a.buildId, 'worker-c')).toBeNull();
  });

  it('an evaluation error fails the build with the Nix error, and the last good build stays current', async () => {
    // It parses (so it saves), but does not evaluate: there is no such package.
    const broken = '{ config, pkgs, ... }:\n{\n  environment.systemPackages = [ pkgs.doesNotExist ];\n}\n';
    const saved = await call(hostConfig.PUT, { method: 'PUT', token: op(), params: { name: h('01') }, json: { module: broken, baseVersion: 2 } });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    const { buildId } = await requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, h('01')));
    expect(await runBuild(buildId)).toBe('failed');
    const view = await call(buildById.GET, { token: op(), params: { id: buildId } });
    expect(view.json.status).toBe('failed');
    expect(view.json.error).toMatch(/attribute 'doesNotExist' missing/);
    const host = await call(hostByName.GET, { token: op(), params: { name: h('01') } });
    expect(host.json.currentBuild).toMatchObject({ id: first.buildId, storePath: first.storePath });
  });

  it('a data directory that cannot hold the build fails it, instead of leaving it running', async () => {
    await hostWithPackages(h('05'), ['hello']);
    const { buildId } = await requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, h('05')));
    const { resetEnvCache } = await import('@/lib/env');
    const blocked = path.join(tmp, 'not-a-directory');
    await writeFile(blocked, '');
    process.env.FLOTILLA_DATA_DIR = blocked;
    resetEnvCache();
    try {
      expect(await runBuild(buildId)).toBe('failed');
    } finally {
      process.env.FLOTILLA_DATA_DIR = tmp;
      resetEnvCache();
    }
    const [row] = await db().select().from(builds).where(eq(builds.id, buildId));
    expect(row).toMatchObject({ status: 'failed' });
    expect(row?.error).toMatch(/ENOTDIR|EEXIST|not a directory/i);
  });
});
