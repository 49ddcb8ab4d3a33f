// The binary cache in an S3-compatible bucket, end to end with real Nix and a real S3
// server in this process (s3rver, a third-party implementation of the S3 API): a
// build's closure lands in the bucket under the organisation's prefix, not on disk; a
// separate store pulls it through /cache with the fleet key; byte ranges and
// conditional requests are relayed from the bucket; a host reads only its own
// closures; pruning deletes from the bucket. Both storage backends are held to the
// same contract, and bad S3 settings stop the process at start.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { and, eq, ne } from 'drizzle-orm';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as hostConfig from '@/app/api/v1/hosts/[name]/config/route';
import * as hosts from '@/app/api/v1/hosts/route';
import { enrollHost } from '@/lib/agents/credentials';
import { requestBuild } from '@/lib/builds/request-build';
import { findHost } from '@/lib/hosts/reach';
import { runBuild } from '@/lib/builds/run-build';
import type { CacheBackend } from '@/lib/cache/backend';
import { fileBackend } from '@/lib/cache/file-backend';
import { pruneCache } from '@/lib/cache/gc';
import { ensureCacheKey } from '@/lib/cache/keys';
import { s3Backend } from '@/lib/cache/s3-backend';
import { cacheBackend, cacheDir, storeHashOf } from '@/lib/cache/storage';
import { db } from '@/lib/db/client';
import { buildPaths, builds, cacheObjects } from '@/lib/db/schema';
import { parseEnv, resetEnvCache } from '@/lib/env';
import { runNix } from '@/lib/nix/run';
import { type Harness, startHarness } from './agent-harness';
import { call, makeOrg, type OrgFixture } from './fixtures';

const BUCKET = 'flotilla-cache';
const PREFIX = 'fleet-test';
// s3rver's one account; it checks request signatures made with it.
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
// Unique names give new system derivations, so each run really builds (the store outlives test runs).
const run = Math.random().toString(36).slice(2, 8);
const h = (n: string) => `s${run}-${n}`;

let tmp: string;
let s3: S3rver;
let endpoint: string;
let bucket: S3Client;
let fx: OrgFixture;
let harness: Harness;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-s3-'));
  s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(tmp, 's3rver'), configureBuckets: [{ name: BUCKET, configs: [] }] });
  const { port } = await s3.run();
  endpoint = `http://127.0.0.1:${port}`;
  await mkdir(path.join(tmp, 'data'));
  Object.assign(process.env, {
    FLOTILLA_DATA_DIR: path.join(tmp, 'data'),
    FLOTILLA_CACHE_S3_BUCKET: BUCKET,
    FLOTILLA_CACHE_S3_ENDPOINT: endpoint,
    FLOTILLA_CACHE_S3_PREFIX: `/${PREFIX}/`,
    FLOTILLA_CACHE_S3_ACCESS_KEY_ID: credentials.accessKeyId,
    FLOTILLA_CACHE_S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  });
  resetEnvCache();
  fx = await makeOrg();
  harness = await startHarness();
  // The test's own view of the bucket, independent of Flotilla's client.
  bucket = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
});

afterAll(async () => {
  cacheBackend().close();
  bucket?.destroy();
  await harness?.close();
  await s3?.close();
  await rm(tmp, { recursive: true, force: true });
});

const op = () => fx.members.operator.token;
const orgPrefix = () => `${PREFIX}/${fx.org.id}/`;

async function bucketKeys(): Promise<string[]> {
  const keys: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await bucket.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: orgPrefix(), ContinuationToken }));
    keys.push(...(page.Contents ?? []).map((o) => (o.Key as string).slice(orgPrefix().length)));
    ContinuationToken = page.NextContinuationToken;
  } while (ContinuationToken);
  return keys;
}

async function inBucket(key: string): Promise<boolean> {
  return bucket.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${orgPrefix()}${key}` })).then(
    () => true,
    (error: { $metadata?: { httpStatusCode?: number } }) => {
      if (error.$metadata?.httpStatusCode === 404) return false;
      throw error;
    },
  );
}

async function saveConfig(name: string, packages: string[], baseVersion: number) {
  const saved = await call(hostConfig.PUT, { method: 'PUT', token: op(), params: { name }, json: { packages, baseVersion, message: 'packages' } });
  expect(saved.status, JSON.stringify(saved.json)).toBe(200);
}

async function newHost(name: string, packages: string[]) {
  const created = await call(hosts.POST, { method: 'POST', token: op(), json: { name } });
  expect(created.status).toBe(201);
  await saveConfig(name, packages, 1);
  return created.json.enrollToken as string;
}

async function build(name: string) {
  const { buildId } = await requestBuild(fx.members.operator.caller, await findHost(fx.members.operator.caller, name));
  expect(await runBuild(buildId)).toBe('built');
  const [row] = await db().select().from(builds).where(eq(builds.id, buildId));
  const closure = (await db().select().from(buildPaths).where(eq(buildPaths.buildId, buildId))).map((p) => p.storePath);
  return { ...(row as typeof builds.$inferSelect), storePath: row?.storePath as string, closure };
}

/** `nix copy` from Flotilla's /cache into a fresh chroot store, as an agent would. */
async function pull(storePath: string, opts: { publicKey: string; credential: string }) {
  const store = await mkdtemp(path.join(tmp, 'store-'));
  const netrc = path.join(store, 'netrc');
  await writeFile(netrc, `machine 127.0.0.1 login host password ${opts.credential}\n`, { mode: 0o600 });
  // Asynchronously: the cache server answering this runs in the same process.
  const result = await runNix(
    'nix',
    ['copy', '--from', `${harness.base}/cache`, '--to', store, '--option', 'trusted-public-keys', opts.publicKey, '--option', 'netrc-file', netrc, storePath],
    { timeoutMs: 120_000 },
  );
  return { code: result.code, stderr: result.stderr, store };
}

async function narUrlOf(storePath: string) {
  const [row] = await db()
    .select({ narUrl: cacheObjects.narUrl })
    .from(cacheObjects)
    .where(and(eq(cacheObjects.orgId, fx.org.id), eq(cacheObjects.storeHash, storeHashOf(storePath))));
  return row?.narUrl as string;
}

describe('the binary cache in an S3-compatible bucket', () => {
  let first: Awaited<ReturnType<typeof build>>;
  let credential: string;

  it('a build goes to the bucket, not the data directory, and a separate store pulls it through /cache with the fleet key', async () => {
    const enrollToken = await newHost(h('01'), ['hello']);
    first = await build(h('01'));

    const keys = await bucketKeys();
    for (const p of first.closure) {
      expect(keys).toContain(`${storeHashOf(p)}.narinfo`);
      expect(keys).toContain(await narUrlOf(p));
    }
    expect(keys.every((k) => /^([0-9a-z]{32}\.narinfo|nar\/[0-9a-z]+\.nar\.xz)$/.test(k)), keys.join(' ')).toBe(true);
    expect(existsSync(cacheDir(fx.org.id))).toBe(false);
    // The staging directory is gone.
    expect((await readdir(path.join(tmp, 'data'))).filter((f) => f.startsWith('cache-staging-'))).toEqual([]);
    expect(first.log).toContain(`to s3://${BUCKET}/${PREFIX}/${fx.org.id}/`);

    ({ credential } = await enrollHost({ token: enrollToken }));
    const key = await ensureCacheKey(fx.org.id);
    const pulled = await pull(first.storePath, { publicKey: key.publicKey, credential });
    expect(pulled.stderr).not.toMatch(/error/);
    expect(pulled.code).toBe(0);
    expect(existsSync(path.join(pulled.store, first.storePath, 'bin', 'switch-to-configuration'))).toBe(true);
    expect(existsSync(path.join(pulled.store, first.storePath, 'sw', 'bin', 'hello'))).toBe(true);
  });

  it('relays byte ranges, ETags and conditional requests from the bucket', async () => {
    const url = await narUrlOf(first.storePath);
    const auth = { authorization: `Bearer ${op()}` };
    const stored = await bucket.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${orgPrefix()}${url}` }));
    const bytes = Buffer.from((await stored.Body?.transformToByteArray()) ?? []);
    expect(bytes.length).toBeGreaterThan(20);

    const full = await fetch(`${harness.base}/cache/${url}`, { headers: auth });
    expect(full.status).toBe(200);
    expect(full.headers.get('etag')).toBe(stored.ETag);
    expect(full.headers.get('content-type')).toBe('application/x-nix-nar');
    expect(full.headers.get('cache-control')).toBe('private, max-age=3600');
    expect(Buffer.from(await full.arrayBuffer())).toEqual(bytes);

    const part = await fetch(`${harness.base}/cache/${url}`, { headers: { ...auth, range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${bytes.length}`);
    expect(part.headers.get('content-length')).toBe('10');
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(10, 20));

    // fetch() adds `cache-control: no-cache` to conditional requests unless told otherwise.
    const again = await fetch(`${harness.base}/cache/${url}`, { headers: { ...auth, 'if-none-match': stored.ETag as string, 'cache-control': 'max-age=0' } });
    expect(again.status).toBe(304);

    const head = await fetch(`${harness.base}/cache/${url}`, { method: 'HEAD', headers: auth });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(bytes.length));

    const beyond = await fetch(`${harness.base}/cache/${url}`, { headers: { ...auth, range: `bytes=${bytes.length + 10}-${bytes.length + 20}` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${bytes.length}`);

    const absent = await fetch(`${harness.base}/cache/nar/${'0'.repeat(52)}.nar.xz`, { headers: auth });
    expect(absent.status).toBe(404);
  });

  it("a host's credential cannot read another host's closure", async () => {
    await newHost(h('02'), ['jq', 'cowsay']);
    const theirs = await build(h('02'));
    const basic = { authorization: `Basic ${Buffer.from(`host:${credential}`).toString('base64')}` };
    const theirNarinfo = await fetch(`${harness.base}/cache/${storeHashOf(theirs.storePath)}.narinfo`, { headers: basic });
    expect(theirNarinfo.status).toBe(403);
    const theirNar = await fetch(`${harness.base}/cache/${await narUrlOf(theirs.storePath)}`, { headers: basic });
    expect(theirNar.status).toBe(403);
    const mine = await fetch(`${harness.base}/cache/${storeHashOf(first.storePath)}.narinfo`, { headers: basic });
    expect(mine.status).toBe(200);
    expect(await mine.text()).toMatch(/^Sig: flotilla-/m);
    expect((await fetch(`${harness.base}/cache/${storeHashOf(first.storePath)}.narinfo`)).status).toBe(401);
  });

  let second: Awaited<ReturnType<typeof build>>;

  it('a later build uploads only the paths the bucket lacks', async () => {
    await saveConfig(h('01'), ['hello', 'fd'], 2);
    second = await build(h('01'));
    const shared = second.closure.filter((p) => first.closure.includes(p));
    const added = second.closure.filter((p) => !first.closure.includes(p));
    expect(shared.length).toBeGreaterThan(0);
    expect(added.length).toBeGreaterThan(0);
    expect(second.log).toContain(`; ${shared.length} of ${second.closure.length} paths were in the cache already`);
    expect(second.log).toContain(`and ${added.length} narinfos to s3://`);
    // Nix skipped the paths whose narinfos were put in its way: it wrote NARs only for new paths.
    const staged = Number(/uploaded \d+ of (\d+) new NAR files/.exec(second.log ?? '')?.[1]);
    expect(staged).toBeGreaterThan(0);
    expect(staged).toBeLessThanOrEqual(added.length);
    const keys = await bucketKeys();
    for (const p of second.closure) expect(keys).toContain(`${storeHashOf(p)}.narinfo`);
  });

  it('pruning deletes from the bucket what no remaining build needs', async () => {
    const longAgo = new Date(Date.now() - 40 * 24 * 60 * 60 * 1000);
    await db().update(builds).set({ finishedAt: longAgo }).where(eq(builds.id, first.id));
    const others = await db().select({ storePath: buildPaths.storePath }).from(buildPaths).where(ne(buildPaths.buildId, first.id));
    const staying = new Set(others.map((p) => p.storePath));
    const doomed = first.closure.filter((p) => !staying.has(p));
    expect(doomed).toContain(first.storePath);
    const doomedNars = await Promise.all(doomed.map(narUrlOf));

    const result = await pruneCache(fx.org.id);
    expect(result).toEqual({ builds: 1, paths: doomed.length, uploads: 0 });
    for (const [i, p] of doomed.entries()) {
      expect(await inBucket(`${storeHashOf(p)}.narinfo`)).toBe(false);
      expect(await inBucket(doomedNars[i] as string)).toBe(false);
    }
    for (const p of second.closure) {
      expect(await inBucket(`${storeHashOf(p)}.narinfo`)).toBe(true);
      expect(await inBucket(await narUrlOf(p))).toBe(true);
    }
    const gone = await fetch(`${harness.base}/cache/${storeHashOf(first.storePath)}.narinfo`, { headers: { authorization: `Bearer ${op()}` } });
    expect(gone.status).toBe(404);
  });

  it('takes a push from `nix copy` into the bucket the same way, and a refused narinfo leaves nothing there', async () => {
    const tag = `s3push-${run}`;
    const built = await runNix('nix', ['build', '--impure', '--json', '--no-link', '--expr', `builtins.derivation { name = "${tag}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo ${tag} > $out" ]; }`]);
    expect(built.code, built.stderr).toBe(0);
    const pushed = (JSON.parse(built.stdout) as { outputs: { out: string } }[])[0]?.outputs.out as string;
    const netrc = path.join(tmp, 'netrc');
    await writeFile(netrc, `machine 127.0.0.1 password ${op()}\n`, { mode: 0o600 });
    const before = await bucketKeys();

    // A narinfo lying about its NAR's contents: refused, and its NAR removed from the bucket.
    const staging = path.join(tmp, 'hand-made');
    expect((await runNix('nix', ['copy', '--to', `file://${staging}`, pushed])).code).toBe(0);
    const narinfo = await readFile(path.join(staging, `${storeHashOf(pushed)}.narinfo`), 'utf8');
    const url = /^URL: (.*)$/m.exec(narinfo)?.[1] as string;
    const put = (key: string, body: Buffer | string) => fetch(`${harness.base}/cache/${key}`, { method: 'PUT', headers: { authorization: `Bearer ${op()}` }, body: typeof body === 'string' ? body : new Uint8Array(body) });
    expect((await put(url, await readFile(path.join(staging, url)))).status).toBe(201);
    expect(await inBucket(url)).toBe(true);
    const lying = narinfo.replace(/^NarSize: .*$/m, 'NarSize: 1');
    expect((await put(`${storeHashOf(pushed)}.narinfo`, lying)).status).toBe(400);
    expect(await bucketKeys()).toEqual(before);

    // The real thing, as CI sends it.
    const copied = await runNix('nix', ['copy', '--option', 'netrc-file', netrc, '--option', 'narinfo-cache-negative-ttl', '0', '--to', `${harness.base}/cache`, pushed]);
    expect(copied.code, copied.stderr).toBe(0);
    expect(await inBucket(`${storeHashOf(pushed)}.narinfo`)).toBe(true);
    expect(existsSync(path.join(cacheDir(fx.org.id), `${storeHashOf(pushed)}.narinfo`))).toBe(false);
    const served = await fetch(`${harness.base}/cache/${storeHashOf(pushed)}.narinfo`, { headers: { authorization: `Bearer ${op()}` } });
    expect(await served.text()).toMatch(new RegExp(`^Sig: ${(await ensureCacheKey(fx.org.id)).name}:`, 'm'));
  });
});

describe.each([
  ['file', () => fileBackend(path.join(tmp, 'contract'))],
  // Parts of 5 MiB, so the 12 MiB file below goes up as a multipart upload.
  ['s3', () => s3Backend({ bucket: BUCKET, endpoint, region: 'us-east-1', prefix: 'contract', forcePathStyle: true, credentials }, { partSize: 5 * 1024 * 1024 })],
])('the %s backend', (_name, make) => {
  const org = 'org-contract';
  const nar = `nar/${'1'.repeat(52)}.nar.xz`;
  const narinfo = `${'a'.repeat(32)}.narinfo`;
  const content = randomBytes(12 * 1024 * 1024);
  let backend: CacheBackend;
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    backend = make();
    server = http.createServer((req, res) => {
      const key = (req.url ?? '/').slice(1);
      void backend.serve(req, res, org, key, { 'content-type': 'application/octet-stream', 'cache-control': 'private' }).then((r) => {
        if (r === 'missing') res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    await mkdir(path.join(tmp, 'files'), { recursive: true });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    backend.close();
  });

  it('puts, stats, reads, serves and deletes', async () => {
    const file = path.join(tmp, 'files', `${_name}.nar`);
    await writeFile(file, content);
    await backend.put(org, nar, file, 'application/x-nix-nar');
    await writeFile(`${file}.narinfo`, 'StorePath: /nix/store/x\n');
    await backend.put(org, narinfo, `${file}.narinfo`, 'text/x-nix-narinfo');

    const info = await backend.stat(org, nar);
    expect(info?.size).toBe(content.length);
    expect(await backend.readText(org, narinfo)).toBe('StorePath: /nix/store/x\n');
    expect(await backend.stat(org, `nar/${'2'.repeat(52)}.nar.xz`)).toBeNull();
    expect(await backend.readText(org, `${'b'.repeat(32)}.narinfo`)).toBeNull();

    const full = await fetch(`${base}/${nar}`);
    expect(full.status).toBe(200);
    expect(full.headers.get('etag')).toBe(info?.etag);
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await full.arrayBuffer()).equals(content)).toBe(true);
    const tail = await fetch(`${base}/${nar}`, { headers: { range: `bytes=${content.length - 100}-` } });
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe(`bytes ${content.length - 100}-${content.length - 1}/${content.length}`);
    expect(Buffer.from(await tail.arrayBuffer()).equals(content.subarray(content.length - 100))).toBe(true);
    const notModified = await fetch(`${base}/${nar}`, { headers: { 'if-none-match': info?.etag as string, 'cache-control': 'max-age=0' } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('etag')).toBe(info?.etag);
    // A client that hangs up mid-download: the server lets go (an error would fail this file).
    const hangUp = new AbortController();
    const partial = await fetch(`${base}/${nar}`, { signal: hangUp.signal });
    await partial.body?.getReader().read();
    hangUp.abort();
    expect((await fetch(`${base}/${nar}`, { headers: { range: `bytes=${content.length}-${content.length + 5}` } })).status).toBe(416);
    const head = await fetch(`${base}/${nar}`, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(content.length));
    expect((await fetch(`${base}/nar/${'2'.repeat(52)}.nar.xz`)).status).toBe(404);

    await backend.delete(org, nar);
    await backend.delete(org, nar);
    expect(await backend.stat(org, nar)).toBeNull();
    await expect(backend.put(org, '../escape.narinfo', file, 'text/plain')).rejects.toThrow(/not a binary cache object key/);
  });
});

describe('S3 settings', () => {
  const bucketOnly = { FLOTILLA_CACHE_S3_BUCKET: 'cache' };

  it('is off without a bucket and has defaults with one', () => {
    expect(parseEnv({}).cacheS3).toBeNull();
    expect(parseEnv(bucketOnly).cacheS3).toEqual({ bucket: 'cache', region: 'us-east-1', prefix: '', forcePathStyle: false, endpoint: undefined, credentials: undefined });
    const minio = parseEnv({ ...bucketOnly, FLOTILLA_CACHE_S3_ENDPOINT: 'http://minio:9000', FLOTILLA_CACHE_S3_PREFIX: '/a/b/' }).cacheS3;
    expect(minio).toMatchObject({ endpoint: 'http://minio:9000', forcePathStyle: true, prefix: 'a/b' });
    expect(parseEnv({ ...bucketOnly, FLOTILLA_CACHE_S3_ENDPOINT: 'http://minio:9000', FLOTILLA_CACHE_S3_FORCE_PATH_STYLE: 'false' }).cacheS3?.forcePathStyle).toBe(false);
  });

  it('refuses bad combinations, naming the variable and never showing the secret', () => {
    expect(() => parseEnv({ FLOTILLA_CACHE_S3_ENDPOINT: 'http://minio:9000' })).toThrow(/FLOTILLA_CACHE_S3_BUCKET: must be set .*FLOTILLA_CACHE_S3_ENDPOINT/);
    expect(() => parseEnv({ ...bucketOnly, FLOTILLA_CACHE_S3_ACCESS_KEY_ID: 'AKIA' })).toThrow(/FLOTILLA_CACHE_S3_SECRET_ACCESS_KEY: .*set together/);
    expect(() => parseEnv({ FLOTILLA_CACHE_S3_BUCKET: 's3://cache' })).toThrow(/FLOTILLA_CACHE_S3_BUCKET: must be a bucket name/);
    expect(() => parseEnv({ ...bucketOnly, FLOTILLA_CACHE_S3_FORCE_PATH_STYLE: 'yes' })).toThrow(/FLOTILLA_CACHE_S3_FORCE_PATH_STYLE: must be true or false/);
    expect(() => parseEnv({ ...bucketOnly, FLOTILLA_CACHE_S3_PREFIX: 'a/../b' })).toThrow(/FLOTILLA_CACHE_S3_PREFIX/);
    expect(() => parseEnv({ ...bucketOnly, FLOTILLA_CACHE_S3_ENDPOINT: 'minio:9000' })).toThrow(/FLOTILLA_CACHE_S3_ENDPOINT/);
    const secret = 'wJalrXUtnFEMI-very-secret';
    for (const source of [
      { ...bucketOnly, FLOTILLA_CACHE_S3_SECRET_ACCESS_KEY: secret },
      { FLOTILLA_CACHE_S3_SECRET_ACCESS_KEY: secret, FLOTILLA_CACHE_S3_ACCESS_KEY_ID: 'AKIA' },
    ]) {
      expect(() => parseEnv(source)).toThrow(/FLOTILLA_CACHE_S3_(ACCESS_KEY_ID|BUCKET)/);
      try {
        parseEnv(source);
      } catch (error) {
        expect(String(error)).not.toContain(secret);
      }
    }
  });
});
