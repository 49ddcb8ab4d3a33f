// The closure of a system in the cache, walked through the references each narinfo
// states. Deploying a system nobody built here (pushed by CI) needs it twice: every
// path of the closure must be in the cache before a host is sent there, and the host's
// credential may then fetch exactly those paths (closure_paths, read by serve.ts).
import { and, eq, inArray } from 'drizzle-orm';
import { db, type Tx } from '@/lib/db/client';
import { cacheObjects, closurePaths } from '@/lib/db/schema';
import { closureFields, parseNarinfo, storeHashOf } from './narinfo';
import { cacheBackend } from './storage';

type ClosurePath = { storeHash: string; storePath: string };

/** Rows written before references were kept get them from their narinfo, once. */
async function backfill(orgId: string, storeHash: string): Promise<string[] | null> {
  const text = await cacheBackend().readText(orgId, `${storeHash}.narinfo`);
  if (text === null) return null;
  const fields = closureFields(parseNarinfo(text));
  await db()
    .update(cacheObjects)
    .set(fields)
    .where(and(eq(cacheObjects.orgId, orgId), eq(cacheObjects.storeHash, storeHash)));
  return fields.references;
}

/** The cached closure of `rootPath`, and the hashes it references that the cache lacks. */
export async function cachedClosure(orgId: string, rootPath: string): Promise<{ paths: ClosurePath[]; missing: string[] }> {
  const seen = new Map<string, ClosurePath>();
  const missing: string[] = [];
  let frontier = [storeHashOf(rootPath)];
  const queued = new Set(frontier);
  while (frontier.length) {
    const next: string[] = [];
    for (let i = 0; i < frontier.length; i += 1000) {
      const batch = frontier.slice(i, i + 1000);
      const rows = await db()
        .select({ storeHash: cacheObjects.storeHash, storePath: cacheObjects.storePath, references: cacheObjects.references })
        .from(cacheObjects)
        .where(and(eq(cacheObjects.orgId, orgId), inArray(cacheObjects.storeHash, batch)));
      const found = new Map(rows.map((r) => [r.storeHash, r]));
      for (const hash of batch) {
        const row = found.get(hash);
        const references = row ? (row.references ?? (await backfill(orgId, hash))) : null;
        if (!row || references === null) {
          missing.push(hash);
          continue;
        }
        seen.set(hash, { storeHash: hash, storePath: row.storePath });
        for (const ref of references) {
          if (queued.has(ref)) continue;
          queued.add(ref);
          next.push(ref);
        }
      }
    }
    frontier = next;
  }
  return { paths: [...seen.values()], missing };
}

/** Records which paths a host deployed `rootPath` may fetch. Idempotent. */
export async function recordClosure(tx: Tx, orgId: string, rootPath: string, paths: ClosurePath[]) {
  for (let i = 0; i < paths.length; i += 1000) {
    await tx
      .insert(closurePaths)
      .values(paths.slice(i, i + 1000).map((p) => ({ orgId, rootPath, ...p })))
      .onConflictDoNothing();
  }
}
