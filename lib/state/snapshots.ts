// What the server knows of hosts' declared state: the units each running system declares
// and the snapshots in each host's store, replaced by every state report of its agent
// (the agent's store is the truth; a snapshot it no longer has is marked deleted).
import { and, desc, eq, inArray, isNotNull, isNull, notInArray, sql } from 'drizzle-orm';
import type { TStateReport } from '@/lib/agents/protocol';
import { batchLoader } from '@/lib/db/batch-loader';
import { db } from '@/lib/db/client';
import { deploymentTargets, hosts, snapshotRestores, stateSnapshots, users } from '@/lib/db/schema';
import type { HostInReach } from '@/lib/hosts/reach';
import { ZStateUnits } from './schemas';

export async function recordStateReport(hostId: string, report: TStateReport) {
  // Most reports hold no snapshot (a host without declared state, or none taken yet): those
  // of the same few milliseconds go in one statement, as a reconnect storm brings thousands.
  if (report.snapshots.length === 0) return withoutSnapshots.load({ host_id: hostId, units: report.units });
  // Agents report on every connection; what did not change is not written again.
  await db().transaction(async (tx) => {
    await tx
      .update(hosts)
      .set({ stateUnits: report.units })
      .where(and(eq(hosts.id, hostId), sql`${hosts.stateUnits} is distinct from ${JSON.stringify(report.units)}::jsonb`));
    // Deployment ids only where the target really was this host's: the agent's word is not enough for a foreign key.
    const targetIds = [...new Set(report.snapshots.map((s) => s.targetId).filter((t): t is string => !!t))];
    const known = targetIds.length
      ? await tx
          .select({ id: deploymentTargets.id, deploymentId: deploymentTargets.deploymentId })
          .from(deploymentTargets)
          .where(and(eq(deploymentTargets.hostId, hostId), inArray(deploymentTargets.id, targetIds)))
      : [];
    const deploymentOf = new Map(known.map((k) => [k.id, k.deploymentId]));
    const [host] = report.snapshots.length ? await tx.select({ orgId: hosts.orgId }).from(hosts).where(eq(hosts.id, hostId)) : [];
    if (host) {
      await tx
        .insert(stateSnapshots)
        .values(
          report.snapshots.map(({ createdAt, deploymentId: _claimed, targetId, ...s }) => {
            const known = targetId && deploymentOf.has(targetId) ? targetId : null;
            return { ...s, orgId: host.orgId, hostId, targetId: known, deploymentId: known ? (deploymentOf.get(known) ?? null) : null, takenAt: new Date(createdAt) };
          }),
        )
        .onConflictDoUpdate({ target: [stateSnapshots.hostId, stateSnapshots.id], set: { deletedAt: null }, setWhere: isNotNull(stateSnapshots.deletedAt) });
    }
    const ids = report.snapshots.map((s) => s.id);
    await tx
      .update(stateSnapshots)
      .set({ deletedAt: new Date() })
      .where(and(eq(stateSnapshots.hostId, hostId), isNull(stateSnapshots.deletedAt), ...(ids.length ? [notInArray(stateSnapshots.id, ids)] : [])));
  });
}

/**
 * Reports without snapshots, many hosts at once: units written where they changed (those
 * hosts locked in id order first, as every multi-host write), and every snapshot the server
 * still lists for these hosts marked deleted, since their agents hold none.
 */
const withoutSnapshots = batchLoader<{ host_id: string; units: TStateReport['units'] }, void>(async (reports) => {
  await db().execute(sql`
    with v as (
      -- A host that reported twice in the batch: its last report counts.
      select distinct on (host_id) host_id, units from rows from (jsonb_to_recordset(${JSON.stringify(reports)}::jsonb) as (host_id uuid, units jsonb)) with ordinality as x(host_id, units, n)
      order by host_id, n desc),
    changed as (
      select h.id from ${hosts} h join v on v.host_id = h.id
      where h.state_units is distinct from v.units order by h.id for no key update of h),
    units as (
      update ${hosts} h set state_units = v.units from v, changed where h.id = changed.id and v.host_id = h.id returning h.id)
    update ${stateSnapshots} s set deleted_at = now() from v where s.host_id = v.host_id and s.deleted_at is null`);
  return reports.map(() => undefined);
});

/** A host's state units, the snapshots its agent holds (newest first) and its latest restores. */
export async function hostState(host: HostInReach) {
  const [snapshots, restores] = await Promise.all([
    db()
      .select()
      .from(stateSnapshots)
      .where(and(eq(stateSnapshots.hostId, host.id), isNull(stateSnapshots.deletedAt)))
      .orderBy(desc(stateSnapshots.takenAt))
      .limit(500),
    db()
      .select({ restore: snapshotRestores, by: users.email })
      .from(snapshotRestores)
      .leftJoin(users, eq(users.id, snapshotRestores.requestedBy))
      .where(eq(snapshotRestores.hostId, host.id))
      .orderBy(desc(snapshotRestores.createdAt))
      .limit(20),
  ]);
  return {
    host: host.name,
    units: ZStateUnits.catch([]).parse(host.stateUnits),
    // Blobs are content-addressed: equal snapshots take the room once.
    storedBytes: [...new Map(snapshots.map((s) => [s.hash, s.size])).values()].reduce((a, b) => a + b, 0),
    snapshots: snapshots.map(({ orgId: _o, hostId: _h, targetId: _t, deletedAt: _d, takenAt, ...s }) => ({ ...s, takenAt: takenAt.toISOString() })),
    restores: restores.map(({ restore: r, by }) => ({
      id: r.id,
      snapshotId: r.snapshotId,
      unit: r.unit,
      status: r.status,
      message: r.message,
      requestedBy: by,
      createdAt: r.createdAt.toISOString(),
      finishedAt: r.finishedAt?.toISOString() ?? null,
    })),
  };
}
export type HostState = Awaited<ReturnType<typeof hostState>>;
