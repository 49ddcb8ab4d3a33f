// Where an organisation's binary cache lives (a directory or a bucket: backend.ts), and
// pushing a closure into it.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { cacheObjects } from '@/lib/db/schema';
import { env, type TEnv } from '@/lib/env';
import { runNix } from '@/lib/nix/run';
import { type CacheBackend, isCacheKey } from './backend';
import { fileBackend } from './file-backend';
import { withSecretKeyFile } from './keys';
import { closureFields, parseNarinfo, storeHashOf } from './narinfo';
import { s3Backend } from './s3-backend';

export { cacheDir } from './file-backend';
export { storeHashOf } from './narinfo';

let current: { env: TEnv; backend: CacheBackend } | undefined;

/** The storage the environment asks for; made again when the environment is re-read (tests). */
export function cacheBackend(): CacheBackend {
  const e = env();
  if (current?.env !== e) {
    current?.backend.close();
    current = { env: e, backend: e.cacheS3 ? s3Backend(e.cacheS3) : fileBackend(e.dataDir) };
  }
  return current.backend;
}


type PushOptions = { fromStore?: string; onProgress?: (line: string) => void; signal?: AbortSignal };

/** Runs `items` through `work`, at most `limit` at a time; after a failure no new item starts. */
async function eachLimit<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      await work(items[next++] as T).catch((error: unknown) => {
        failed = true;
        throw error;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** `nix copy` of the closure into a file:// binary cache at `dir`, signed with the organisation's key. */
async function nixCopy(orgId: string, dir: string, storePath: string, opts: PushOptions) {
  await withSecretKeyFile(orgId, async (keyFile) => {
    const args = ['copy', '--log-format', 'internal-json', '--to', `file://${dir}?secret-key=${keyFile}&compression=xz`, storePath];
    if (opts.fromStore) args.splice(1, 0, '--from', opts.fromStore);
    const result = await runNix('nix', args, { onStderrLine: opts.onProgress, signal: opts.signal, timeoutMs: 60 * 60 * 1000 });
    if (result.code !== 0) throw new Error(`nix copy to the cache failed: ${result.stderr.replace(/^@nix .*$/gm, '').trim().slice(0, 2000)}`);
  });
}

/** The `cache_objects` rows for a closure, from the narinfos in a file:// cache directory. */
async function objectRows(orgId: string, dir: string, closure: string[]) {
  const rows: (typeof cacheObjects.$inferInsert)[] = [];
  for (const p of closure) {
    const hash = storeHashOf(p);
    const info = parseNarinfo(await readFile(path.join(dir, `${hash}.narinfo`), 'utf8'));
    // FileSize is the NAR file's size; a staged push has no NAR for paths the cache already had.
    rows.push({ orgId, storeHash: hash, storePath: p, narUrl: info.url, fileSize: info.fileSize, ...closureFields(info) });
  }
  return rows;
}

async function recordObjects(rows: (typeof cacheObjects.$inferInsert)[]) {
  for (let i = 0; i < rows.length; i += 500) {
    await db()
      .insert(cacheObjects)
      .values(rows.slice(i, i + 500))
      .onConflictDoUpdate({
        target: [cacheObjects.orgId, cacheObjects.storeHash],
        set: { narUrl: sql`excluded.nar_url`, fileSize: sql`excluded.file_size`, narHash: sql`excluded.nar_hash`, narSize: sql`excluded.nar_size`, references: sql`excluded.references` },
      });
  }
}

/**
 * Puts the narinfos of closure paths the cache already holds into the staging
 * directory, so `nix copy` skips them (it checks the target for narinfos) instead of
 * compressing every NAR of the closure again. Returns the keys it wrote.
 */
async function seedKnownNarinfos(backend: CacheBackend, orgId: string, closure: string[], staging: string) {
  const seeded = new Set<string>();
  const hashes = closure.map(storeHashOf);
  const known = [];
  for (let i = 0; i < hashes.length; i += 1000) {
    known.push(
      ...(await db()
        .select({ storeHash: cacheObjects.storeHash })
        .from(cacheObjects)
        .where(and(eq(cacheObjects.orgId, orgId), inArray(cacheObjects.storeHash, hashes.slice(i, i + 1000))))),
    );
  }
  await eachLimit(known, 8, async ({ storeHash }) => {
    const key = `${storeHash}.narinfo`;
    const text = await backend.readText(orgId, key);
    // Gone from the bucket after all (pruned meanwhile): Nix pushes the path again.
    if (text === null) return;
    await writeFile(path.join(staging, key), text);
    seeded.add(key);
  });
  return seeded;
}

/**
 * Narinfos grouped so that each group only references paths of earlier groups (or
 * paths the cache already had): uploading group by group, a client never finds a
 * narinfo whose references it cannot fetch.
 */
function dependencyLevels(narinfos: { key: string; text: string }[]): string[][] {
  const byHash = new Map(narinfos.map((n) => [n.key.slice(0, 32), n]));
  const level = new Map<string, number>();
  const levelOf = (hash: string): number => {
    const known = level.get(hash);
    if (known !== undefined) return known;
    const refs = (/^References: (.*)$/m.exec(byHash.get(hash)?.text ?? '')?.[1] ?? '').split(/\s+/).map((r) => r.slice(0, 32));
    const mine = 1 + Math.max(-1, ...refs.filter((r) => r !== hash && byHash.has(r)).map(levelOf));
    level.set(hash, mine);
    return mine;
  };
  const levels: string[][] = [];
  for (const [hash, n] of byHash) (levels[levelOf(hash)] ??= []).push(n.key);
  return levels.filter(Boolean);
}

/**
 * Uploads what `nix copy` wrote to the staging directory: every NAR first (skipping
 * those the bucket has), then the narinfos, dependencies first, so a narinfo is
 * never visible before its NAR.
 */
async function publish(backend: CacheBackend, orgId: string, staging: string, seeded: Set<string>) {
  const nars = (await readdir(path.join(staging, 'nar')).catch(() => [] as string[])).map((f) => `nar/${f}`).filter(isCacheKey);
  let uploaded = 0;
  let bytes = 0;
  await eachLimit(nars, 4, async (key) => {
    if (await backend.stat(orgId, key)) return;
    const file = path.join(staging, key);
    await backend.put(orgId, key, file, 'application/x-nix-nar');
    uploaded++;
    bytes += (await stat(file)).size;
  });
  const names = (await readdir(staging)).filter((f) => f.endsWith('.narinfo') && isCacheKey(f) && !seeded.has(f));
  const narinfos = await Promise.all(names.map(async (key) => ({ key, text: await readFile(path.join(staging, key), 'utf8') })));
  for (const group of dependencyLevels(narinfos)) {
    await eachLimit(group, 8, (key) => backend.put(orgId, key, path.join(staging, key), 'text/x-nix-narinfo'));
  }
  return { staged: nars.length, nars: uploaded, bytes, narinfos: narinfos.length };
}

/**
 * Copies a closure into the organisation's cache, signed with its key, and records
 * which NAR file each path's narinfo points at (the cache checks access by it).
 * A directory cache takes `nix copy` directly; other storage gets the files from a
 * staging directory, because Debian's Nix 2.8 has no S3 store.
 */
export async function pushClosure(orgId: string, storePath: string, closure: string[], opts: PushOptions = {}) {
  const backend = cacheBackend();
  const dir = backend.directory?.(orgId);
  if (dir) {
    await mkdir(dir, { recursive: true });
    await nixCopy(orgId, dir, storePath, opts);
    await recordObjects(await objectRows(orgId, dir, closure));
    return;
  }
  // In the data directory, not /tmp: NARs can be large and /tmp is often memory.
  await mkdir(env().dataDir, { recursive: true });
  const staging = await mkdtemp(path.join(env().dataDir, 'cache-staging-'));
  try {
    const seeded = await seedKnownNarinfos(backend, orgId, closure, staging);
    await nixCopy(orgId, staging, storePath, opts);
    const rows = await objectRows(orgId, staging, closure);
    const sent = await publish(backend, orgId, staging, seeded);
    opts.onProgress?.(
      `uploaded ${sent.nars} of ${sent.staged} new NAR files (${(sent.bytes / 1024 / 1024).toFixed(1)} MiB) and ${sent.narinfos} narinfos to ${backend.describe(orgId)}; ${seeded.size} of ${closure.length} paths were in the cache already`,
    );
    await recordObjects(rows);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
