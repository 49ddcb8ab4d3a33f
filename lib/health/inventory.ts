// The software inventory: which hosts run which package at which version, read from the
// closures of the systems they run now (closure_packages of the build that made each
// host's current system). "Which hosts still run openssl 3.0.x?" is one indexed query.
import { and, asc, eq, isNull, like, sql, type SQL } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { builds, closurePackages, hosts } from '@/lib/db/schema';

/** The build (of any of the organisation's hosts) whose output is each host's current system. */
const currentBuild = and(eq(builds.orgId, hosts.orgId), eq(builds.storePath, hosts.currentSystem), eq(builds.status, 'succeeded'));

/** Hosts running a package (by name), optionally at versions starting with `version`. */
export async function hostsRunning(orgId: string, pname: string, version?: string) {
  const where: SQL[] = [eq(hosts.orgId, orgId), isNull(hosts.retiredAt), eq(closurePackages.pname, pname)];
  if (version) where.push(like(closurePackages.version, `${version.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
  const rows = await db()
    .selectDistinct({ host: hosts.name, version: closurePackages.version, online: hosts.online })
    .from(hosts)
    .innerJoin(builds, currentBuild)
    .innerJoin(closurePackages, eq(closurePackages.buildId, builds.id))
    .where(and(...where))
    .orderBy(asc(hosts.name), asc(closurePackages.version));
  const versions = new Map<string, number>();
  for (const r of rows) versions.set(r.version, (versions.get(r.version) ?? 0) + 1);
  return {
    package: pname,
    hosts: rows,
    versions: [...versions.entries()].map(([v, n]) => ({ version: v, hosts: n })).sort((a, b) => b.hosts - a.hosts || a.version.localeCompare(b.version)),
  };
}

/** Packages across the fleet's current systems whose name starts with `q`, with how many hosts run each version. */
export async function searchInventory(orgId: string, q: string, limit = 50) {
  const prefix = `${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = await db()
    .select({ pname: closurePackages.pname, version: closurePackages.version, hosts: sql<number>`count(distinct ${hosts.id})::int` })
    .from(hosts)
    .innerJoin(builds, currentBuild)
    .innerJoin(closurePackages, eq(closurePackages.buildId, builds.id))
    .where(and(eq(hosts.orgId, orgId), isNull(hosts.retiredAt), like(sql`lower(${closurePackages.pname})`, prefix)))
    .groupBy(closurePackages.pname, closurePackages.version)
    .orderBy(asc(closurePackages.pname), asc(closurePackages.version))
    .limit(limit);
  return rows;
}
