// Counts for the fleet overview, in one query.
import { and, eq, isNull, sql } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { hostAssignees, hosts } from '@/lib/db/schema';
import { HOST_STATUS_SQL } from './status-sql';

export async function fleetSummary(orgId: string) {
  const [row] = await db()
    .select({
      total: sql<number>`count(*)::int`,
      online: sql<number>`count(*) filter (where ${HOST_STATUS_SQL.online})::int`,
      offline: sql<number>`count(*) filter (where ${HOST_STATUS_SQL.offline})::int`,
      neverSeen: sql<number>`count(*) filter (where ${HOST_STATUS_SQL['never-seen']})::int`,
      drifted: sql<number>`count(*) filter (where ${HOST_STATUS_SQL.drifted})::int`,
      needsReboot: sql<number>`count(*) filter (where ${HOST_STATUS_SQL['needs-reboot']})::int`,
    })
    .from(hosts)
    .where(and(eq(hosts.orgId, orgId), isNull(hosts.retiredAt)));
  return {
    total: row?.total ?? 0,
    online: row?.online ?? 0,
    offline: row?.offline ?? 0,
    neverSeen: row?.neverSeen ?? 0,
    drifted: row?.drifted ?? 0,
    needsReboot: row?.needsReboot ?? 0,
  };
}

export async function assignedHosts(orgId: string, userId: string) {
  return db()
    .select({ id: hosts.id, name: hosts.name, online: hosts.online, lastSeen: hosts.lastSeen })
    .from(hosts)
    .innerJoin(hostAssignees, eq(hostAssignees.hostId, hosts.id))
    .where(and(eq(hosts.orgId, orgId), eq(hostAssignees.userId, userId), isNull(hosts.retiredAt)))
    .orderBy(hosts.name);
}
