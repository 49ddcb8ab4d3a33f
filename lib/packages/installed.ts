// What a system has installed, read from its closure (the paths of the build whose output
// it is, or those recorded when a system pushed by CI was deployed), matched by name and version against the package index. Only packages
// the index knows count (the closure also holds libraries nobody asked for).
import { and, eq, inArray } from 'drizzle-orm';
import { parseName } from '@/lib/builds/closure';
import { db } from '@/lib/db/client';
import { buildPaths, builds, closurePaths, packageIndex } from '@/lib/db/schema';
import { orgNixpkgsSource } from './org-source';
import type { PackageHit } from './search';

/** The system's closure: from the build that made it, or as recorded when a pushed system was deployed. */
async function closurePathsOf(orgId: string, systemPath: string): Promise<{ storePath: string }[] | null> {
  const [build] = await db()
    .select({ id: builds.id })
    .from(builds)
    .where(and(eq(builds.orgId, orgId), eq(builds.storePath, systemPath), eq(builds.status, 'succeeded')))
    .limit(1);
  if (build) return db().select({ storePath: buildPaths.storePath }).from(buildPaths).where(eq(buildPaths.buildId, build.id));
  const pushed = await db()
    .select({ storePath: closurePaths.storePath })
    .from(closurePaths)
    .where(and(eq(closurePaths.orgId, orgId), eq(closurePaths.rootPath, systemPath)));
  return pushed.length ? pushed : null;
}

/** Null when the system's closure is unknown (neither built here nor deployed from the cache). */
export async function installedPackages(orgId: string, systemPath: string): Promise<PackageHit[] | null> {
  const paths = await closurePathsOf(orgId, systemPath);
  if (!paths) return null;
  const names = paths.map((p) => parseName(p.storePath)).filter((n) => n.version);
  if (names.length === 0) return [];
  const source = await orgNixpkgsSource(orgId);
  const candidates = await db()
    .select({ attr: packageIndex.attr, pname: packageIndex.pname, version: packageIndex.version, description: packageIndex.description })
    .from(packageIndex)
    .where(and(eq(packageIndex.source, source.key), inArray(packageIndex.pname, [...new Set(names.map((n) => n.pname))])));
  const present = new Set(names.map((n) => `${n.pname}\0${n.version}`));
  return candidates.filter((c) => present.has(`${c.pname}\0${c.version}`)).sort((a, b) => a.attr.localeCompare(b.attr));
}
