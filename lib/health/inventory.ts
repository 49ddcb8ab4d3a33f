// The software inventory: which hosts run which package at which version, read from the
// closures of the systems they run now (closure_packages of the build that made each
// host's current system). "Which hosts still run openssl 3.0.x?" is one indexed query.
import type { Caller } from '@/lib/auth/caller';
import { and, asc, eq, isNull, like, notLike, sql, type SQL } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { builds, closurePackages, hosts } from '@/lib/db/schema';
import { hostsInReachWhere } from '@/lib/hosts/reach';

/** The build (of any of the organisation's hosts) whose output is each host's current system. */
const currentBuild = and(eq(builds.orgId, hosts.orgId), eq(builds.storePath, hosts.currentSystem), eq(builds.status, 'succeeded'));

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Hosts running a package (by name), optionally at versions starting with `version`. */
export async function hostsRunning(caller: Caller, pname: string, version?: string) {
  // Within the caller's reach: a tag-limited token learns nothing of hosts outside its tags.
  const where: SQL[] = [hostsInReachWhere(caller), isNull(hosts.retiredAt), eq(closurePackages.pname, pname)];
  if (version) where.push(like(closurePackages.version, `${escapeLike(version)}%`));
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

/** "openssl 3.0" → a name prefix and a version prefix, as the inventory's search box takes them. */
export function parseInventoryQuery(q: string): { name: string; version?: string } {
  const [name = '', version] = q.trim().split(/\s+/, 2);
  return version ? { name, version } : { name };
}

/**
 * Packages across the fleet's current systems whose name starts with `q` (and version with
 * `opts.version`), with how many hosts run each version; `offset` pages through them.
 */
export async function searchInventory(caller: Caller, q: string, limit = 50, opts: { version?: string; offset?: number } = {}) {
  const where: SQL[] = [hostsInReachWhere(caller), isNull(hosts.retiredAt), like(sql`lower(${closurePackages.pname})`, `${escapeLike(q.toLowerCase())}%`)];
  if (opts.version) where.push(like(closurePackages.version, `${escapeLike(opts.version)}%`));
  const rows = await db()
    .select({ pname: closurePackages.pname, version: closurePackages.version, hosts: sql<number>`count(distinct ${hosts.id})::int` })
    .from(hosts)
    .innerJoin(builds, currentBuild)
    .innerJoin(closurePackages, eq(closurePackages.buildId, builds.id))
    .where(and(...where))
    .groupBy(closurePackages.pname, closurePackages.version)
    .orderBy(asc(closurePackages.pname), asc(closurePackages.version))
    .limit(limit)
    .offset(opts.offset ?? 0);
  return rows;
}

/** One page of the hosts running exactly `pname` at exactly `version`, and how many there are. */
export async function hostsRunningExactly(orgId: string, pname: string, version: string, page: { limit: number; offset: number }) {
  const where = and(eq(hosts.orgId, orgId), isNull(hosts.retiredAt), eq(closurePackages.pname, pname), eq(closurePackages.version, version));
  const matching = db()
    .selectDistinct({ id: hosts.id, host: hosts.name, online: hosts.online, lastSeen: hosts.lastSeen })
    .from(hosts)
    .innerJoin(builds, currentBuild)
    .innerJoin(closurePackages, eq(closurePackages.buildId, builds.id))
    .where(where)
    .as('matching');
  const [rows, [count]] = await Promise.all([
    db().select().from(matching).orderBy(asc(matching.host)).limit(page.limit).offset(page.offset),
    db().select({ n: sql<number>`count(*)::int` }).from(matching),
  ]);
  return { hosts: rows.map((r) => ({ host: r.host, online: r.online, lastSeen: r.lastSeen?.toISOString() ?? null })), total: count?.n ?? 0 };
}

/** The fleet's current systems joined to their packages, within the caller's reach. */
function installed(caller: Caller, ...where: SQL[]) {
  return and(hostsInReachWhere(caller), isNull(hosts.retiredAt), ...where);
}

/**
 * Browsing without a name: the packages the most hosts run (any version), with how many
 * versions of each the fleet runs; `offset` pages through them.
 */
export async function mostInstalled(caller: Caller, limit = 50, offset = 0) {
  const hostCount = sql<number>`count(distinct ${hosts.id})::int`;
  return db()
    .select({ pname: closurePackages.pname, hosts: hostCount, versions: sql<number>`count(distinct ${closurePackages.version})::int` })
    .from(hosts)
    .innerJoin(builds, currentBuild)
    .innerJoin(closurePackages, eq(closurePackages.buildId, builds.id))
    // Each host's system itself (`nixos-system-<host>-…`) is in its own closure: one host each, noise in a ranking.
    .where(installed(caller, notLike(closurePackages.pname, 'nixos-system-%')))
    .groupBy(closurePackages.pname)
    .orderBy(sql`count(distinct ${hosts.id}) desc`, asc(closurePackages.pname))
    .limit(limit)
    .offset(offset);
}

/** Every version of `pname` the fleet runs, the most common first, with how many hosts run each. */
export async function packageVersions(caller: Caller, pname: string) {
  return db()
    .select({ version: closurePackages.version, hosts: sql<number>`count(distinct ${hosts.id})::int` })
    .from(hosts)
    .innerJoin(builds, currentBuild)
    .innerJoin(closurePackages, eq(closurePackages.buildId, builds.id))
    .where(installed(caller, eq(closurePackages.pname, pname)))
    .groupBy(closurePackages.version)
    .orderBy(sql`count(distinct ${hosts.id}) desc`, asc(closurePackages.version));
}
