// The binary cache's access check answered from memory (lib/cache/access.ts) is as
// strict as asking the database: a revoked credential is refused as soon as its NOTIFY
// arrives, a new grant is readable at once, one host's remembered grants never open
// another host's paths, and nothing crosses organisations. Real server path, real
// PostgreSQL with LISTEN/NOTIFY, real credentials and storage.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollHost, revokeHostCredential } from '@/lib/agents/credentials';
import { HOST_CHANNEL } from '@/lib/agents/host-events';
import { cacheAccessReady } from '@/lib/cache/access';
import { recordClosure } from '@/lib/cache/closure';
import { formatNarinfo, nix32 } from '@/lib/cache/narinfo';
import { cacheBackend } from '@/lib/cache/storage';
import { db, sqlClient } from '@/lib/db/client';
import { buildPaths, builds, cacheObjects, deployments, deploymentTargets, hosts } from '@/lib/db/schema';
import { resetEnvCache } from '@/lib/env';
import { issueEnrollToken } from '@/lib/hosts/enroll-tokens';
import { createHost } from '@/lib/hosts/inventory';
import { type Harness, startHarness, until } from './agent-harness';
import { makeOrg, type OrgFixture } from './fixtures';

let tmp: string;
let harness: Harness;
let fx: OrgFixture;
let other: OrgFixture;

const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';
const hash = () => Array.from(randomBytes(32), (b) => NIX32[b & 31]).join('');

type CachedPath = { storeHash: string; storePath: string; narUrl: string };

/** A path in the organisation's cache: its narinfo and NAR through the storage backend, and its cache_objects row. */
async function cachedPath(orgId: string, name = 'pkg'): Promise<CachedPath> {
  const storeHash = hash();
  const storePath = `/nix/store/${storeHash}-${name}`;
  const narUrl = `nar/${nix32(randomBytes(32))}.nar.xz`;
  const narinfo = formatNarinfo({
    storePath,
    url: narUrl,
    compression: 'xz',
    fileHash: `sha256:${nix32(randomBytes(32))}`,
    fileSize: 5,
    narHash: `sha256:${nix32(randomBytes(32))}`,
    narSize: 100,
    references: [],
    sigs: [],
  });
  const file = path.join(tmp, `${storeHash}.staged`);
  await writeFile(file, narinfo);
  await cacheBackend().put(orgId, `${storeHash}.narinfo`, file, 'text/x-nix-narinfo');
  await writeFile(file, 'bytes');
  await cacheBackend().put(orgId, narUrl, file, 'application/x-nix-nar');
  await db().insert(cacheObjects).values({ orgId, storeHash, storePath, narUrl, fileSize: 5, references: [] });
  return { storeHash, storePath, narUrl };
}

async function newHost(org: OrgFixture, name: string) {
  const { host, enrollToken } = await createHost(org.members.operator.caller, { name, deployOnly: true });
  const { credential } = await enrollHost({ token: enrollToken });
  return { host, credential };
}

/** A build for the host whose closure is `paths` (what a finished build records). */
async function grantBuild(orgId: string, hostId: string, paths: CachedPath[]) {
  const root = paths[0] as CachedPath;
  const [build] = await db()
    .insert(builds)
    .values({ orgId, hostId, configVersion: 1, inputHash: randomBytes(8).toString('hex'), status: 'succeeded', storePath: root.storePath })
    .returning();
  await db()
    .insert(buildPaths)
    .values(paths.map((p) => ({ buildId: build?.id as string, storeHash: p.storeHash, storePath: p.storePath, narSize: 100 })));
}

/** A deployment of a CI-pushed system to the host: its recorded closure and the host's target. */
async function grantDeployment(orgId: string, hostId: string, paths: CachedPath[]) {
  const root = paths[0] as CachedPath;
  await recordClosure(db(), orgId, root.storePath, paths);
  const [deployment] = await db().insert(deployments).values({ orgId, strategy: {}, source: 'api', status: 'succeeded' }).returning();
  await db()
    .insert(deploymentTargets)
    .values({ deploymentId: deployment?.id as string, hostId, storePath: root.storePath, phase: 'succeeded' });
}

const get = (key: string, credential?: string) =>
  fetch(`${harness.base}/cache/${key}`, credential ? { headers: { authorization: `Basic ${Buffer.from(`host:${credential}`).toString('base64')}` } } : {});
const status = async (key: string, credential?: string) => {
  const res = await get(key, credential);
  await res.arrayBuffer();
  return res.status;
};

/** Resolves when this process has heard `credential:<hostId>`: the access memory, listening on the same connection first, has too. */
function heardCredentialChange(hostId: string): Promise<() => Promise<void>> {
  return new Promise((resolveListening) => {
    let heard: () => void;
    const arrived = new Promise<void>((resolve) => (heard = resolve));
    void sqlClient()
      .listen(HOST_CHANNEL, (payload) => {
        if (payload === `credential:${hostId}`) heard();
      })
      .then((listener) =>
        resolveListening(async () => {
          await arrived;
          await listener.unlisten();
        }),
      );
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-cache-access-'));
  process.env.FLOTILLA_DATA_DIR = path.join(tmp, 'data');
  resetEnvCache();
  harness = await startHarness({ driver: false });
  fx = await makeOrg();
  other = await makeOrg();
  // The memory answers only once its LISTEN works (a first ping came back).
  await until('the access memory', async () => cacheAccessReady(), 20_000);
});

afterAll(async () => {
  await harness?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('the cache access check in memory', () => {
  it('answers from memory, and refuses a revoked credential as soon as the NOTIFY arrives', async () => {
    const { host, credential } = await newHost(fx, 'revoked-1');
    const paths = [await cachedPath(fx.org.id, 'system'), await cachedPath(fx.org.id)];
    await grantDeployment(fx.org.id, host.id, paths);
    const [root, leaf] = paths as [CachedPath, CachedPath];
    expect(await status(`${root.storeHash}.narinfo`, credential)).toBe(200);
    expect(await status(leaf.narUrl, credential)).toBe(200);

    // Proof that the memory answers: the credential ended in the database without the
    // NOTIFY every real change sends is still accepted (hence the NOTIFY in each of them).
    const [before] = await db().select({ credentialHash: hosts.credentialHash }).from(hosts).where(eq(hosts.id, host.id));
    await db().update(hosts).set({ credentialHash: null }).where(eq(hosts.id, host.id));
    expect(await status(`${leaf.storeHash}.narinfo`, credential)).toBe(200);
    await db().update(hosts).set({ credentialHash: before?.credentialHash }).where(eq(hosts.id, host.id));

    const notified = await heardCredentialChange(host.id);
    await revokeHostCredential(fx.members.operator.caller, host);
    await notified();
    expect(await status(`${root.storeHash}.narinfo`, credential)).toBe(401);
    expect(await status(leaf.narUrl, credential)).toBe(401);
    expect(await status('nix-cache-info', credential)).toBe(401);
  });

  it('forgets everything when its LISTEN connection drops (a NOTIFY may have been missed meanwhile)', async () => {
    const { host, credential } = await newHost(fx, 'listen-lost-1');
    const p = await cachedPath(fx.org.id);
    await grantBuild(fx.org.id, host.id, [p]);
    expect(await status(`${p.storeHash}.narinfo`, credential)).toBe(200);
    // A credential ended with no NOTIFY this process hears: remembered, as above.
    await db().update(hosts).set({ credentialHash: null }).where(eq(hosts.id, host.id));
    expect(await status(`${p.storeHash}.narinfo`, credential)).toBe(200);
    const killed = await db().execute(sql`
      select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and query ilike 'listen %'`);
    expect(killed.length).toBeGreaterThan(0);
    await until('the credential refused', async () => (await status(`${p.storeHash}.narinfo`, credential)) === 401, 20_000);
    await until('the access memory back', async () => cacheAccessReady(), 20_000);
  });

  it('refuses a credential replaced by a new enrolment, and accepts the new one', async () => {
    const { host, credential: old } = await newHost(fx, 'reenrolled-1');
    const [p] = [await cachedPath(fx.org.id)] as [CachedPath];
    await grantBuild(fx.org.id, host.id, [p]);
    expect(await status(`${p.storeHash}.narinfo`, old)).toBe(200);
    const { token } = await db().transaction((tx) => issueEnrollToken(tx, fx.members.operator.caller, host));
    const notified = await heardCredentialChange(host.id);
    const { credential: fresh } = await enrollHost({ token });
    await notified();
    expect(await status(`${p.storeHash}.narinfo`, old)).toBe(401);
    expect(await status(`${p.storeHash}.narinfo`, fresh)).toBe(200);
  });

  it('lets a host read a closure granted after its grants were remembered, at once', async () => {
    const { host, credential } = await newHost(fx, 'granted-1');
    const first = await cachedPath(fx.org.id);
    await grantBuild(fx.org.id, host.id, [first]);
    expect(await status(`${first.storeHash}.narinfo`, credential)).toBe(200);

    const built = [await cachedPath(fx.org.id, 'system-2'), await cachedPath(fx.org.id)];
    expect(await status(`${built[1]?.storeHash}.narinfo`, credential)).toBe(403);
    await grantBuild(fx.org.id, host.id, built);
    expect(await status(`${built[1]?.storeHash}.narinfo`, credential)).toBe(200);
    expect(await status(built[1]?.narUrl as string, credential)).toBe(200);

    const deployed = [await cachedPath(fx.org.id, 'system-3'), await cachedPath(fx.org.id)];
    await grantDeployment(fx.org.id, host.id, deployed);
    expect(await status(`${deployed[1]?.storeHash}.narinfo`, credential)).toBe(200);
    expect(await status(deployed[1]?.narUrl as string, credential)).toBe(200);
  });

  it("never lets a host read another host's paths, even once the other host's grants are remembered", async () => {
    const mine = await newHost(fx, 'mine-1');
    const theirs = await newHost(fx, 'theirs-1');
    const myPath = await cachedPath(fx.org.id);
    const theirPath = await cachedPath(fx.org.id);
    await grantBuild(fx.org.id, mine.host.id, [myPath]);
    await grantDeployment(fx.org.id, theirs.host.id, [await cachedPath(fx.org.id, 'system'), theirPath]);

    for (let i = 0; i < 3; i++) {
      expect(await status(`${theirPath.storeHash}.narinfo`, theirs.credential)).toBe(200);
      expect(await status(theirPath.narUrl, theirs.credential)).toBe(200);
      expect(await status(`${myPath.storeHash}.narinfo`, mine.credential)).toBe(200);
      expect(await status(`${theirPath.storeHash}.narinfo`, mine.credential)).toBe(403);
      expect(await status(theirPath.narUrl, mine.credential)).toBe(403);
      expect(await status(`${myPath.storeHash}.narinfo`, theirs.credential)).toBe(403);
      expect(await status(myPath.narUrl, theirs.credential)).toBe(403);
    }
  });

  it('never crosses organisations', async () => {
    const ours = await newHost(fx, 'org-a-1');
    const foreign = await newHost(other, 'org-b-1');
    const ourPath = await cachedPath(fx.org.id);
    const foreignPath = await cachedPath(other.org.id);
    await grantBuild(fx.org.id, ours.host.id, [ourPath]);
    await grantBuild(other.org.id, foreign.host.id, [foreignPath]);
    expect(await status(`${ourPath.storeHash}.narinfo`, ours.credential)).toBe(200);
    expect(await status(`${foreignPath.storeHash}.narinfo`, foreign.credential)).toBe(200);

    expect(await status(`${ourPath.storeHash}.narinfo`, foreign.credential)).toBe(403);
    expect(await status(ourPath.narUrl, foreign.credential)).toBe(403);
    expect(await status(`${foreignPath.storeHash}.narinfo`, ours.credential)).toBe(403);
    expect(await status(foreignPath.narUrl, ours.credential)).toBe(403);
    // An organisation's token reads its own cache: the other's files are not there for it.
    const token = { authorization: `Bearer ${other.members.operator.token}` };
    expect((await fetch(`${harness.base}/cache/${ourPath.storeHash}.narinfo`, { headers: token })).status).toBe(404);
    expect((await fetch(`${harness.base}/cache/${foreignPath.storeHash}.narinfo`, { headers: token })).status).toBe(200);
  });

  it('serves narinfos as a file server does: the same bytes, ETag and Last-Modified as send, HEAD without a body', async () => {
    const { host, credential } = await newHost(fx, 'headers-1');
    const p = await cachedPath(fx.org.id);
    await grantBuild(fx.org.id, host.id, [p]);
    const auth = { authorization: `Basic ${Buffer.from(`host:${credential}`).toString('base64')}` };
    const plain = await fetch(`${harness.base}/cache/${p.storeHash}.narinfo`, { headers: auth });
    const text = await plain.text();
    expect(text).toContain(`StorePath: ${p.storePath}\n`);
    expect(plain.headers.get('content-type')).toBe('text/x-nix-narinfo');
    expect(plain.headers.get('cache-control')).toBe('private, max-age=3600');
    expect(plain.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    // A conditional request goes through `send`: its validators must be the ones we sent.
    const conditional = await fetch(`${harness.base}/cache/${p.storeHash}.narinfo`, {
      headers: { ...auth, 'if-none-match': plain.headers.get('etag') as string, 'cache-control': 'max-age=0' },
    });
    expect(conditional.status).toBe(304);
    const since = await fetch(`${harness.base}/cache/${p.storeHash}.narinfo`, {
      headers: { ...auth, 'if-modified-since': plain.headers.get('last-modified') as string, 'cache-control': 'max-age=0' },
    });
    expect(since.status).toBe(304);
    const head = await fetch(`${harness.base}/cache/${p.storeHash}.narinfo`, { method: 'HEAD', headers: auth });
    expect(head.status).toBe(200);
    expect(head.headers.get('etag')).toBe(plain.headers.get('etag'));
    expect(await head.text()).toBe('');

    // Rewritten in place (a re-signed narinfo): the next answer is the new file, not the remembered one.
    const file = path.join(tmp, 'resigned');
    await writeFile(file, `${text}Sig: flotilla-2:${randomBytes(64).toString('base64')}\n`);
    await cacheBackend().put(fx.org.id, `${p.storeHash}.narinfo`, file, 'text/x-nix-narinfo');
    const again = await fetch(`${harness.base}/cache/${p.storeHash}.narinfo`, { headers: auth });
    expect(await again.text()).toContain('Sig: flotilla-2:');
    expect(again.headers.get('etag')).not.toBe(plain.headers.get('etag'));
  });

  it('streams a large NAR whole, hands ranges to send, and lets go of the file when the client hangs up', async () => {
    const { host, credential } = await newHost(fx, 'large-1');
    const p = await cachedPath(fx.org.id);
    await grantBuild(fx.org.id, host.id, [p]);
    // Larger than what loopback socket buffers take in: the server is still sending when the client goes.
    const bytes = randomBytes(48 * 1024 * 1024 + 12_345);
    const file = path.join(tmp, 'large');
    await writeFile(file, bytes);
    await cacheBackend().put(fx.org.id, p.narUrl, file, 'application/x-nix-nar');
    const auth = { authorization: `Basic ${Buffer.from(`host:${credential}`).toString('base64')}` };

    const whole = await fetch(`${harness.base}/cache/${p.narUrl}`, { headers: auth });
    expect(whole.headers.get('content-length')).toBe(String(bytes.length));
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    const part = await fetch(`${harness.base}/cache/${p.narUrl}`, { headers: { ...auth, range: 'bytes=2000000-2000009' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(2_000_000, 2_000_010))).toBe(true);

    // Hang up after the first bytes: the server must close its descriptor of the file.
    const stored = path.join(process.env.FLOTILLA_DATA_DIR as string, 'cache', fx.org.id, p.narUrl);
    const openDescriptors = async () => {
      let n = 0;
      for (const fd of await readdir('/proc/self/fd')) if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')) === stored) n++;
      return n;
    };
    await new Promise<void>((resolve, reject) => {
      const req = request(`${harness.base}/cache/${p.narUrl}`, { headers: auth }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.once('error', (error) => (req.destroyed ? resolve() : reject(error)));
      req.end();
    });
    await until('the NAR file closed', async () => (await openDescriptors()) === 0, 5_000);
  });
});
