// CI pushing closures into Flotilla's cache the way it pushes to any Nix HTTP cache:
// real Nix builds a system from the stand-in outside Flotilla, `nix copy` and
// `flotilla push` upload it with a cache.write token, and the server checks everything
// it is sent. Refusals (a tampered NAR, a missing reference, a token without
// cache.write, an unsigned path when CI keys are required) leave nothing behind.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as trustedKeysRoute from '@/app/api/v1/cache/trusted-keys/route';
import * as deployments from '@/app/api/v1/deployments/route';
import * as hostBuilds from '@/app/api/v1/hosts/[name]/builds/route';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hosts from '@/app/api/v1/hosts/route';
import { enrollHost } from '@/lib/agents/credentials';
import { createApiToken } from '@/lib/auth/api-tokens';
import { pruneCache } from '@/lib/cache/gc';
import { ensureCacheKey } from '@/lib/cache/keys';
import { nix32, parseNarinfo, validSigners, formatNarinfo } from '@/lib/cache/narinfo';
import { cacheDir, storeHashOf } from '@/lib/cache/storage';
import { db } from '@/lib/db/client';
import { cacheObjects, cacheUploads } from '@/lib/db/schema';
import { nixConfig } from '@/lib/nix/run';
import { type Harness, startHarness } from './agent-harness';
import { call, makeOrg, type OrgFixture } from './fixtures';

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const run = Math.random().toString(36).slice(2, 8);

let tmp: string;
let fx: OrgFixture;
let harness: Harness;
let writer: string;
let readerOnly: string;
let nixEnv: NodeJS.ProcessEnv;

/** Real Nix as CI runs it: its own narinfo cache (Nix remembers misses per URL), no substituters. */
async function nix(args: string[], extraEnv: Record<string, string> = {}) {
  return exec('nix', args, { env: { ...nixEnv, ...extraEnv }, maxBuffer: 64 * 1024 * 1024 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
  );
}

/** A system from the stand-in, built outside Flotilla: what a CI job's `nix build` makes. */
async function ciSystem(hostName: string): Promise<string> {
  const expr = `(builtins.getFlake "path:${root}/nix/standin").lib.nixosSystem { modules = [ ({ pkgs, ... }: { networking.hostName = "${hostName}"; environment.systemPackages = [ pkgs.hello pkgs.jq ]; }) ]; }`;
  const built = await nix(['build', '--impure', '--json', '--no-link', '--expr', `(${expr}).config.system.build.toplevel`]);
  expect(built.code, built.stderr).toBe(0);
  return (JSON.parse(built.stdout) as { outputs: { out: string } }[])[0]?.outputs.out as string;
}

/** Two tiny paths, the second referring to the first: for hand-made uploads. */
async function leafAndTop(tag: string): Promise<{ leaf: string; top: string }> {
  const expr = `let
    leaf = builtins.derivation { name = "leaf-${tag}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo ${tag}-leaf > $out" ]; };
    top = builtins.derivation { name = "top-${tag}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo \${leaf} > $out" ]; inherit leaf; };
  in top`;
  const built = await nix(['build', '--impure', '--json', '--no-link', '--expr', expr]);
  expect(built.code, built.stderr).toBe(0);
  const top = (JSON.parse(built.stdout) as { outputs: { out: string } }[])[0]?.outputs.out as string;
  const refs = await nix(['path-info', '--json', top]);
  const leaf = (JSON.parse(refs.stdout) as { references: string[] }[])[0]?.references.find((r) => r !== top) as string;
  return { leaf, top };
}

async function netrc(token: string): Promise<string> {
  const file = path.join(tmp, `netrc-${token.slice(-6)}`);
  await writeFile(file, `machine 127.0.0.1 login ci password ${token}\n`, { mode: 0o600 });
  return file;
}

const copyTo = async (token: string, paths: string[], params = 'compression=xz') =>
  nix(['copy', '--option', 'netrc-file', await netrc(token), '--to', `${harness.base}/cache?${params}`, ...paths]);

const objectsOf = () => db().select().from(cacheObjects).where(eq(cacheObjects.orgId, fx.org.id));
const uploadsOf = () => db().select().from(cacheUploads).where(eq(cacheUploads.orgId, fx.org.id));
const cachedFiles = async () => {
  const dir = cacheDir(fx.org.id);
  if (!existsSync(dir)) return [];
  const top = await readdir(dir);
  const nars = existsSync(path.join(dir, 'nar')) ? (await readdir(path.join(dir, 'nar'))).map((f) => `nar/${f}`) : [];
  return [...top.filter((f) => f !== 'nar'), ...nars];
};

/** Hand-made PUT, as a client that is not Nix could send it. */
const put = (key: string, body: Buffer | string, token = writer) =>
  fetch(`${harness.base}/cache/${key}`, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body: typeof body === 'string' ? body : new Uint8Array(body) });

/** A narinfo and NAR as `nix copy --to file://` writes them, unsigned, for hand-made uploads. */
async function localCopy(storePath: string) {
  const dir = await mkdtemp(path.join(tmp, 'local-'));
  const copied = await nix(['copy', '--to', `file://${dir}?compression=xz`, storePath]);
  expect(copied.code, copied.stderr).toBe(0);
  const text = await readFile(path.join(dir, `${storeHashOf(storePath)}.narinfo`), 'utf8');
  const info = parseNarinfo(text);
  return { info, nar: await readFile(path.join(dir, info.url)) };
}

async function xz(data: Buffer, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('xz', args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.once('error', reject);
    child.once('close', () => resolve(Buffer.concat(chunks)));
    child.stdin.end(data);
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-push-'));
  process.env.FLOTILLA_DATA_DIR = path.join(tmp, 'data');
  await mkdir(path.join(tmp, 'xdg'));
  nixEnv = { ...process.env, NIX_CONFIG: `${nixConfig()}\nnarinfo-cache-negative-ttl = 0`, XDG_CACHE_HOME: path.join(tmp, 'xdg') };
  fx = await makeOrg();
  harness = await startHarness({ driver: false });
  writer = (await createApiToken(fx.members.operator.caller, { name: 'ci push', scopes: ['cache.write', 'deployments.write', 'fleet.read'] })).token;
  readerOnly = (await createApiToken(fx.members.operator.caller, { name: 'ci read', scopes: ['cache.read'] })).token;
}, 60_000);

afterAll(async () => {
  await harness?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('pushing to the cache over HTTP', () => {
  it('refuses a token without cache.write, and nothing lands', async () => {
    const system = await ciSystem(`ro-${run}`);
    const refused = await copyTo(readerOnly, [system]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/403/);
    // Hosts never push, whatever they send.
    expect((await put(`${storeHashOf(system)}.narinfo`, 'StorePath: x', readerOnly)).status).toBe(403);
    expect(await objectsOf()).toEqual([]);
    expect(await uploadsOf()).toEqual([]);
    expect(await cachedFiles()).toEqual([]);
  }, 120_000);

  it('takes what `nix copy` sends with a cache.write token, signs it with the fleet key, and serves it back', async () => {
    const system = await ciSystem(`ci-${run}`);
    const pushed = await copyTo(writer, [system]);
    expect(pushed.code, pushed.stderr).toBe(0);

    const closure = (JSON.parse((await nix(['path-info', '--json', '--recursive', system])).stdout) as { path: string }[]).map((p) => p.path);
    const objects = await objectsOf();
    expect(objects.map((o) => o.storePath).sort()).toEqual([...closure].sort());
    for (const o of objects) {
      expect(o.pushedAt).not.toBeNull();
      expect(o.narHash).toMatch(/^sha256:/);
    }
    expect(await uploadsOf()).toEqual([]);

    // Signed with the key agents trust, so a store that trusts only it takes the closure.
    const key = await ensureCacheKey(fx.org.id);
    const served = await fetch(`${harness.base}/cache/${storeHashOf(system)}.narinfo`, { headers: { authorization: `Bearer ${readerOnly}` } });
    expect(served.status).toBe(200);
    expect(validSigners(parseNarinfo(await served.text()), [key.publicKey])).toEqual([key.name]);
    const store = path.join(tmp, 'pull');
    // As a host pulls: from another machine, so not from the narinfos Nix remembered while pushing (unsigned).
    await mkdir(path.join(tmp, 'xdg-host'));
    const pulled = await nix(['copy', '--option', 'netrc-file', await netrc(readerOnly), '--option', 'trusted-public-keys', key.publicKey, '--from', `${harness.base}/cache`, '--to', store, system], {
      XDG_CACHE_HOME: path.join(tmp, 'xdg-host'),
    });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(existsSync(path.join(store, system))).toBe(true);

    // Pushing again sends nothing: Nix sees the narinfos.
    const again = await nix(['copy', '-v', '--option', 'netrc-file', await netrc(writer), '--to', `${harness.base}/cache`, system]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/copying path/);
  }, 180_000);

  it('refuses a NAR that does not hash to its name, and a narinfo that does not match its NAR, leaving nothing', async () => {
    const { leaf } = await leafAndTop(`tamper-${run}`);
    const { info, nar } = await localCopy(leaf);
    const before = await cachedFiles();

    // One byte changed, same name: the file hash gives it away at once.
    const flipped = Buffer.from(nar);
    flipped[flipped.length - 20] = (flipped[flipped.length - 20] as number) ^ 0xff;
    const badName = await put(info.url, flipped);
    expect(badName.status).toBe(400);
    expect(await badName.text()).toMatch(/SHA-256/);

    // Altered contents under their own correct name, with a narinfo claiming the original NarHash.
    const plain = Buffer.from((await xz(nar, ['-dc'])).toString('latin1').replace(`tamper-${run}-leaf`, `tamper-${run}-evil`), 'latin1');
    const evil = await xz(plain, ['-c']);
    const evilName = nix32(createHash('sha256').update(evil).digest());
    const evilUrl = `nar/${evilName}.nar.xz`;
    expect((await put(evilUrl, evil)).status).toBe(201);
    const lie = formatNarinfo({ ...info, url: evilUrl, fileHash: `sha256:${evilName}`, fileSize: evil.length });
    const refused = await put(`${storeHashOf(leaf)}.narinfo`, lie);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/NarHash .* does not match the uploaded NAR/);

    expect(await cachedFiles()).toEqual(before);
    expect((await objectsOf()).some((o) => o.storePath === leaf)).toBe(false);
    expect(await uploadsOf()).toEqual([]);
  }, 120_000);

  it('refuses a narinfo whose references are not in the cache yet, leaving nothing; in order, both go in', async () => {
    const { leaf, top } = await leafAndTop(`refs-${run}`);
    const before = await cachedFiles();
    const topCopy = await localCopy(top);
    expect((await put(topCopy.info.url, topCopy.nar)).status).toBe(201);
    const refused = await put(`${storeHashOf(top)}.narinfo`, formatNarinfo(topCopy.info));
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(new RegExp(`references not in this cache yet.*${path.basename(leaf)}`));
    expect(await cachedFiles()).toEqual(before);
    expect(await uploadsOf()).toEqual([]);

    const leafCopy = await localCopy(leaf);
    expect((await put(leafCopy.info.url, leafCopy.nar)).status).toBe(201);
    expect((await put(`${storeHashOf(leaf)}.narinfo`, formatNarinfo(leafCopy.info))).status).toBe(201);
    expect((await put(topCopy.info.url, topCopy.nar)).status).toBe(201);
    expect((await put(`${storeHashOf(top)}.narinfo`, formatNarinfo(topCopy.info))).status).toBe(201);
    // A narinfo for a path the cache has, with another NarHash, is a conflict; the same one a repeat.
    expect((await put(`${storeHashOf(leaf)}.narinfo`, formatNarinfo(leafCopy.info))).status).toBe(200);
    const other = formatNarinfo({ ...leafCopy.info, narHash: `sha256:${'1'.repeat(52)}` });
    expect((await put(`${storeHashOf(leaf)}.narinfo`, other)).status).toBe(409);
    // Garbage is a 400 with a reason, not a 500.
    const garbage = await put(`${storeHashOf(leaf)}.narinfo`, 'StorePath: /etc/passwd\nURL: ../../x\n');
    expect(garbage.status).toBe(400);
    expect(await garbage.text()).toMatch(/not a valid narinfo/);
  }, 120_000);

  it('requires a signature by a trusted CI key once the organisation lists one', async () => {
    const keys = path.join(tmp, 'ci-key');
    await mkdir(keys);
    const generated = await exec('nix-store', ['--generate-binary-cache-key', `ci-${run}`, path.join(keys, 'sec'), path.join(keys, 'pub')], { env: nixEnv });
    expect(generated.stderr).toBe('');
    const publicKey = (await readFile(path.join(keys, 'pub'), 'utf8')).trim();
    const setKeys = (token: string, keys: string[]) => call(trustedKeysRoute.PUT, { method: 'PUT', token, json: { keys } });
    expect((await setKeys(fx.members.operator.token, [publicKey])).status).toBe(403);
    const bad = await setKeys(fx.members.admin.token, ['ci:bm90IGEga2V5']);
    expect(bad.status).toBe(400);
    expect((await setKeys(fx.members.admin.token, [publicKey])).status).toBe(200);
    try {
      const { leaf } = await leafAndTop(`signed-${run}`);
      const unsigned = await copyTo(writer, [leaf]);
      expect(unsigned.code).not.toBe(0);
      expect(unsigned.stderr).toMatch(/400/);
      expect((await objectsOf()).some((o) => o.storePath === leaf)).toBe(false);

      const signed = await copyTo(writer, [leaf], `compression=xz&secret-key=${path.join(keys, 'sec')}`);
      expect(signed.code, signed.stderr).toBe(0);
      const [row] = await db().select().from(cacheObjects).where(and(eq(cacheObjects.orgId, fx.org.id), eq(cacheObjects.storeHash, storeHashOf(leaf))));
      expect(row?.pushedAt).not.toBeNull();
    } finally {
      expect((await setKeys(fx.members.admin.token, [])).status).toBe(200);
    }
  }, 120_000);

  it('`flotilla push` says what the cache has, pushes the rest with progress, and a deployment opens the closure to its host only', async () => {
    const system = await ciSystem(`cli-${run}`);
    const cli = async (args: string[]) =>
      exec(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { cwd: root, env: { ...nixEnv, FLOTILLA_SERVER: harness.base, FLOTILLA_TOKEN: writer } }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
      );
    const first = await cli(['push', system]);
    expect(first.code, first.stderr).toBe(0);
    // hello and jq came with an earlier system: only the new toplevel goes.
    expect(first.stderr).toMatch(/3 paths in the closure; 2 already in the cache; pushing 1/);
    expect(first.stderr).toMatch(new RegExp(`\\[1/1\\] ${system}`));
    expect(first.stdout.trim()).toBe(system);
    const second = await cli(['push', system]);
    expect(second.stderr).toMatch(/3 already in the cache; pushing 0/);

    // A host reads a pushed closure only once it is deployed there.
    const name = `push-${run}`;
    const created = await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name, deployOnly: true } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const { credential } = await enrollHost({ token: created.json.enrollToken, agentVersion: 'test' });
    const asHost = (key: string) => fetch(`${harness.base}/cache/${key}`, { headers: { authorization: `Bearer ${credential}` } });
    const hello = (JSON.parse((await nix(['path-info', '--json', '--recursive', system])).stdout) as { path: string }[]).find((p) => p.path.includes('-hello-'))?.path as string;
    expect((await asHost(`${storeHashOf(system)}.narinfo`)).status).toBe(403);
    expect((await asHost(`${storeHashOf(hello)}.narinfo`)).status).toBe(403);
    const deployed = await call(deployments.POST, { method: 'POST', token: writer, json: { agents: { [name]: system } } });
    expect(deployed.status, JSON.stringify(deployed.json)).toBe(201);
    expect((await asHost(`${storeHashOf(system)}.narinfo`)).status).toBe(200);
    expect((await asHost(`${storeHashOf(hello)}.narinfo`)).status).toBe(200);
    const narUrl = parseNarinfo(await (await asHost(`${storeHashOf(hello)}.narinfo`)).text()).url;
    expect((await asHost(narUrl)).status).toBe(200);
    // A host credential never pushes, even what it may read.
    const hostPut = await fetch(`${harness.base}/cache/${storeHashOf(hello)}.narinfo`, { method: 'PUT', headers: { authorization: `Bearer ${credential}` }, body: 'StorePath: x' });
    expect(hostPut.status).toBe(403);
    // A deploy-only host has no config: building it or saving one is refused, saying what works.
    const build = await call(hostBuilds.POST, { method: 'POST', token: fx.members.operator.token, params: { name } });
    expect(build.status).toBe(422);
    expect(build.json.error.message).toMatch(/deploy-only/);
    const save = await call(hostConfig.PUT, { method: 'PUT', token: fx.members.operator.token, params: { name }, json: { packages: ['hello'], baseVersion: 1 } });
    expect(save.status, JSON.stringify(save.json)).toBe(422);
    // Not a path outside that closure.
    const others = (await objectsOf()).filter((o) => o.storePath.includes('-top-refs-'));
    expect(others).toHaveLength(1);
    expect((await asHost(`${others[0]?.storeHash}.narinfo`)).status).toBe(403);
  }, 180_000);

  it('finishes a push that died between its row and its narinfo: the retry publishes the narinfo', async () => {
    const { leaf } = await leafAndTop(`gap-${run}`);
    expect((await copyTo(writer, [leaf])).code).toBe(0);
    const file = path.join(cacheDir(fx.org.id), `${storeHashOf(leaf)}.narinfo`);
    // As if the process died after recording the path and before writing its narinfo.
    await rm(file);
    expect((await objectsOf()).some((o) => o.storePath === leaf)).toBe(true);
    // The retry (a new CI job) does not have the first one's memory of what it uploaded.
    await mkdir(path.join(tmp, 'xdg-retry'));
    const retried = await nix(['copy', '--option', 'netrc-file', await netrc(writer), '--to', `${harness.base}/cache`, leaf], { XDG_CACHE_HOME: path.join(tmp, 'xdg-retry') });
    expect(retried.code, retried.stderr).toBe(0);
    const key = await ensureCacheKey(fx.org.id);
    expect(validSigners(parseNarinfo(await readFile(file, 'utf8')), [key.publicKey])).toEqual([key.name]);
  }, 120_000);

  it('ages pushed paths like builds: what a host is deployed keeps its whole closure, an abandoned upload goes after a day', async () => {
    const longAgo = new Date(Date.now() - 40 * 24 * 60 * 60 * 1000);
    await db().update(cacheObjects).set({ pushedAt: longAgo }).where(eq(cacheObjects.orgId, fx.org.id));
    const { leaf } = await leafAndTop(`stale-${run}`);
    const stale = await localCopy(leaf);
    expect((await put(stale.info.url, stale.nar)).status).toBe(201);
    await db().update(cacheUploads).set({ createdAt: new Date(Date.now() - 25 * 60 * 60 * 1000) }).where(eq(cacheUploads.orgId, fx.org.id));

    const before = await objectsOf();
    const deployedRoot = before.find((o) => o.storePath.includes('-nixos-system-cli-')) as typeof cacheObjects.$inferSelect;
    const abandonedRoot = before.find((o) => o.storePath.includes('-nixos-system-ci-')) as typeof cacheObjects.$inferSelect;
    await pruneCache(fx.org.id);
    const after = new Set((await objectsOf()).map((o) => o.storeHash));
    // The deployed system and its dependencies (pushed with an older system) stay; the old system goes.
    expect(after.has(deployedRoot.storeHash)).toBe(true);
    for (const ref of deployedRoot.references ?? []) expect(after.has(ref)).toBe(true);
    expect(after.has(abandonedRoot.storeHash)).toBe(false);
    expect(existsSync(path.join(cacheDir(fx.org.id), `${abandonedRoot.storeHash}.narinfo`))).toBe(false);
    expect(existsSync(path.join(cacheDir(fx.org.id), `${deployedRoot.storeHash}.narinfo`))).toBe(true);
    expect(await uploadsOf()).toEqual([]);
    expect(existsSync(path.join(cacheDir(fx.org.id), stale.info.url))).toBe(false);
  }, 120_000);
});
