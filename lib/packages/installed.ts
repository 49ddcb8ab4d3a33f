// What a system has installed, read from its closure: the store paths of a build whose
// output it is, matched by name and version against the package index. Only packages
// the index knows count (the closure also holds libraries nobody asked for).
import { and, eq, inArray } from 'drizzle-orm';
import { parseName } from '@/lib/builds/closure';
import { db } from '@/lib/db/client';
import { buildPaths, builds, packageIndex } from '@/lib/db/schema';
import { orgNixpkgsSource } from './org-source';
import type { PackageHit } from './search';

/** Null when no build of this organisation produced the system (its closure is unknown). */
export async function installedPackages(orgId: string, systemPath: string): Promise<PackageHit[] | null> {
  const [build] = await db()
    .select({ id: builds.id })
    .from(builds)
    .where(and(eq(builds.orgId, orgId), eq(builds.storePath, systemPath), eq(builds.status, 'succeeded')))
    .limit(1);
  if (!build) return null;
  const paths = await db().select({ storePath: buildPaths.storePath }).from(buildPaths).where(eq(buildPaths.buildId, build.id));
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
