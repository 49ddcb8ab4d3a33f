// Pruning the binary cache: cache entries of builds older than the organisation's
// retention go, except for anything a host runs, booted, is meant to run, or is
// being deployed, and the newest good build of every host. A path shared with a
// build that stays is kept. The build rows and their logs stay; they are marked pruned.
// Paths pushed by CI age the same way (prunePushed), and NAR uploads no narinfo
// claimed within a day are removed.
import { and, eq, inArray, isNull, lt, notInArray, sql } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { builds, cacheObjects, cacheUploads, fleetSettings } from '@/lib/db/schema';
import { FINAL_BUILD_STATUSES, OPEN_TARGET_PHASES } from '@/lib/db/statuses';
import { cacheBackend } from './storage';
import { discardUpload } from './upload';

/** Store paths the cache must keep serving for this organisation, whatever their age. */
const pinnedPaths = (orgId: string) => sql`
  select current_system as p from hosts where org_id = ${orgId} and current_system is not null
  union select booted_system from hosts where org_id = ${orgId} and booted_system is not null
  union select desired_system from hosts where org_id = ${orgId} and desired_system is not null
  union select t.store_path from deployment_targets t join deployments d on d.id = t.deployment_id
        where d.org_id = ${orgId} and t.phase in ${OPEN_TARGET_PHASES}
  union (select distinct on (host_id) store_path from builds
        where org_id = ${orgId} and status = 'succeeded' and not preview and store_path is not null and pruned_at is null
        order by host_id, finished_at desc)`;

/**
 * Hashes in the closure of a path pushed since the cutoff or of a pinned system, walked
 * through the references each narinfo stated: a new push keeps the old dependencies
 * `nix copy` skipped because the cache had them, whoever put them there.
 */
const keptByPushes = (orgId: string, cutoff: Date) => sql`
  with recursive keep(h) as (
    select store_hash from cache_objects
      where org_id = ${orgId} and (pushed_at >= ${cutoff.toISOString()}::timestamptz or store_path in (${pinnedPaths(orgId)}))
    union
    select unnest(co.references) from cache_objects co join keep on co.store_hash = keep.h where co.org_id = ${orgId}
  )
  select h from keep where h is not null`;

export async function pruneCache(orgId: string, now = new Date()) {
  const [settings] = await db().select({ days: fleetSettings.buildRetentionDays }).from(fleetSettings).where(eq(fleetSettings.orgId, orgId));
  const cutoff = new Date(now.getTime() - (settings?.days ?? 30) * 24 * 60 * 60 * 1000);
  const expired = await db()
    .select({ id: builds.id })
    .from(builds)
    .where(
      and(
        eq(builds.orgId, orgId),
        isNull(builds.prunedAt),
        inArray(builds.status, FINAL_BUILD_STATUSES),
        lt(builds.finishedAt, cutoff),
        sql`coalesce(${builds.storePath}, '') not in (${pinnedPaths(orgId)})`,
      ),
    );
  const pushed = await prunePushed(orgId, cutoff);
  const uploads = await pruneUnclaimedUploads(orgId, now);
  if (expired.length === 0) return { builds: 0, paths: pushed, uploads };
  const ids = expired.map((b) => b.id);
  // Paths only these builds need: not in the closure of any build that stays.
  const doomed = await db().execute<{ store_hash: string }>(sql`
    select distinct bp.store_hash from build_paths bp
    where bp.build_id in (${sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `)})
      and bp.store_hash not in (${keptByPushes(orgId, cutoff)})
      and not exists (
        select 1 from build_paths keep join builds kb on kb.id = keep.build_id
        where keep.store_hash = bp.store_hash and kb.org_id = ${orgId} and kb.pruned_at is null
          and kb.id not in (${sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `)})
      )`);
  const hashes = [...doomed].map((r) => r.store_hash);
  await deleteObjects(orgId, hashes);
  await db().update(builds).set({ prunedAt: now }).where(inArray(builds.id, ids));
  return { builds: ids.length, paths: hashes.length + pushed, uploads };
}

/** Deletes these objects: narinfos first (then Nix stops asking), then NAR files no kept path shares, then the rows. */
async function deleteObjects(orgId: string, hashes: string[]) {
  if (hashes.length === 0) return;
  const storage = cacheBackend();
  const objects = await db()
    .select({ storeHash: cacheObjects.storeHash, narUrl: cacheObjects.narUrl })
    .from(cacheObjects)
    .where(and(eq(cacheObjects.orgId, orgId), inArray(cacheObjects.storeHash, hashes)));
  const urls = [...new Set(objects.map((o) => o.narUrl))];
  const stillUsed = urls.length
    ? await db()
        .select({ narUrl: cacheObjects.narUrl })
        .from(cacheObjects)
        .where(and(eq(cacheObjects.orgId, orgId), inArray(cacheObjects.narUrl, urls), notInArray(cacheObjects.storeHash, hashes)))
    : [];
  const kept = new Set(stillUsed.map((o) => o.narUrl));
  for (const o of objects) await storage.delete(orgId, `${o.storeHash}.narinfo`);
  for (const url of urls) if (!kept.has(url)) await storage.delete(orgId, url);
  await db().delete(cacheObjects).where(and(eq(cacheObjects.orgId, orgId), inArray(cacheObjects.storeHash, hashes)));
}

/**
 * Paths pushed over HTTP (CI) follow the same retention: those pushed before the cutoff
 * go unless a host needs them (pinned systems) or a newer push or a build that stays
 * refers to them. Closures are walked through the references each narinfo stated, so
 * a new system's old dependencies (skipped by `nix copy` because the cache had them)
 * stay with it.
 */
async function prunePushed(orgId: string, cutoff: Date) {
  const doomed = await db().execute<{ store_hash: string }>(sql`
    select co.store_hash from cache_objects co
    where co.org_id = ${orgId} and co.pushed_at < ${cutoff.toISOString()}::timestamptz
      and co.store_hash not in (${keptByPushes(orgId, cutoff)})
      and not exists (
        select 1 from build_paths bp join builds b on b.id = bp.build_id
        where bp.store_hash = co.store_hash and b.org_id = ${orgId} and b.pruned_at is null)`);
  const hashes = [...doomed].map((r) => r.store_hash);
  if (hashes.length === 0) return 0;
  await deleteObjects(orgId, hashes);
  // Deployments of those systems no longer open anything: their recorded closures go too.
  await db().execute(sql`
    delete from closure_paths cp where cp.org_id = ${orgId}
      and not exists (select 1 from cache_objects co where co.org_id = ${orgId} and co.store_path = cp.root_path)`);
  return hashes.length;
}

/** NAR files uploaded a day ago or more that no narinfo claimed (an interrupted push). */
async function pruneUnclaimedUploads(orgId: string, now: Date) {
  const stale = await db()
    .select({ narUrl: cacheUploads.narUrl })
    .from(cacheUploads)
    .where(and(eq(cacheUploads.orgId, orgId), lt(cacheUploads.createdAt, new Date(now.getTime() - 24 * 60 * 60 * 1000))));
  for (const { narUrl } of stale) await discardUpload(orgId, narUrl);
  return stale.length;
}

export async function pruneAllCaches(now = new Date()) {
  const orgs = await db().select({ orgId: fleetSettings.orgId }).from(fleetSettings);
  let total = { builds: 0, paths: 0 };
  for (const { orgId } of orgs) {
    const r = await pruneCache(orgId, now);
    total = { builds: total.builds + r.builds, paths: total.paths + r.paths };
  }
  return total;
}
