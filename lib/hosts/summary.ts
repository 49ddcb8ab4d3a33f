// Counts for the fleet overview, in one query.
import { and, eq, isNull, sql } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { hostAssignees, hosts } from '@/lib/db/schema';

export async function fleetSummary(orgId: string) {
  const [row] = await db()
    .select({
      total: sql<number>`count(*)::int`,
      online: sql<number>`count(*) filter (where ${hosts.online})::int`,
      neverSeen: sql<number>`count(*) filter (where ${hosts.lastSeen} is null)::int`,
      drifted: sql<number>`count(*) filter (where ${hosts.desiredSystem} is not null and ${hosts.desiredSystem} is distinct from ${hosts.currentSystem})::int`,
      needsReboot: sql<number>`count(*) filter (where ${hosts.bootedSystem} is not null and ${hosts.bootedSystem} is distinct from ${hosts.currentSystem})::int`,
    })
    .from(hosts)
    .where(and(eq(hosts.orgId, orgId), isNull(hosts.retiredAt)));
  const total = row?.total ?? 0;
  const online = row?.online ?? 0;
  const neverSeen = row?.neverSeen ?? 0;
  return { total, online, offline: total - online - neverSeen, neverSeen, drifted: row?.drifted ?? 0, needsReboot: row?.needsReboot ?? 0 };
}

export async function assignedHosts(orgId: string, userId: string) {
  return db()
    .select({ id: hosts.id, name: hosts.name, online: hosts.online, lastSeen: hosts.lastSeen })
    .from(hosts)
    .innerJoin(hostAssignees, eq(hostAssignees.hostId, hosts.id))
    .where(and(eq(hosts.orgId, orgId), eq(hostAssignees.userId, userId), isNull(hosts.retiredAt)))
    .orderBy(hosts.name);
}
