// Restores on request (DESIGN.md §10): an operator picks a snapshot the host's agent
// holds; the request is stored, audited, and sent by whichever server holds the host's
// socket (now, or when it next connects). The agent snapshots the data it replaces,
// restores with the unit's service stopped, and reports how it went.
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import type { TRestore, TRestoreStatus } from '@/lib/agents/protocol';
import { batchLoader } from '@/lib/db/batch-loader';
import { db } from '@/lib/db/client';
import { hosts, snapshotRestores, stateSnapshots } from '@/lib/db/schema';
import { OPEN_RESTORE_STATUSES } from '@/lib/db/statuses';
import { emit, transaction } from '@/lib/events/outbox';
import type { HostInReach } from '@/lib/hosts/reach';

export async function requestRestore(caller: Caller, host: HostInReach, snapshotId: string) {
  const restore = await transaction(async (tx) => {
    // One change at a time per host: the lock makes "nothing open" and the insert one step.
    const [locked] = await tx.select({ id: hosts.id }).from(hosts).where(and(eq(hosts.id, host.id), isNull(hosts.retiredAt))).for('update');
    if (!locked) throw new AppError('not_found', `No host named "${host.name}"`);
    const [snapshot] = await tx
      .select()
      .from(stateSnapshots)
      .where(and(eq(stateSnapshots.hostId, host.id), eq(stateSnapshots.id, snapshotId), isNull(stateSnapshots.deletedAt)));
    if (!snapshot) throw new AppError('not_found', `Host "${host.name}" holds no snapshot ${snapshotId}`);
    const [open] = await tx
      .select({ id: snapshotRestores.id })
      .from(snapshotRestores)
      .where(and(eq(snapshotRestores.hostId, host.id), inArray(snapshotRestores.status, OPEN_RESTORE_STATUSES)));
    if (open) throw new AppError('conflict', `A restore on ${host.name} is still under way (${open.id})`);
    const [row] = await tx
      .insert(snapshotRestores)
      .values({ orgId: caller.org.id, hostId: host.id, snapshotId, unit: snapshot.unit, requestedBy: caller.user.id })
      .returning();
    await recordAudit(tx, caller, {
      action: 'state.restore',
      objectType: 'host',
      objectId: host.id,
      after: { host: host.name, unit: snapshot.unit, snapshotId, takenAt: snapshot.takenAt.toISOString(), restoreId: row!.id },
    });
    await emit(tx, { type: 'restore.requested', restoreId: row!.id, hostId: host.id });
    return row!;
  });
  return { id: restore.id, snapshotId, unit: restore.unit, status: restore.status };
}

/**
 * Restores to send to the host: new ones, and unfinished ones again. The agent answers a
 * repeat with its recorded outcome, and one it was running when it stopped with a failure,
 * so no restore stays "running" (and blocks the next) after an agent restart.
 */
export async function restoresToSend(hostId: string): Promise<TRestore[]> {
  return restoresByHost.load(hostId);
}

// Every hello asks; the hellos of a few milliseconds ask in one statement.
const restoresByHost = batchLoader<string, TRestore[]>(async (hostIds) => {
  const rows = await db()
    .update(snapshotRestores)
    .set({ status: sql`case when ${snapshotRestores.status} = 'pending' then 'sent'::restore_status else ${snapshotRestores.status} end` })
    .where(and(sql`${snapshotRestores.hostId} = any(${`{${[...new Set(hostIds)].join(',')}}`}::uuid[])`, inArray(snapshotRestores.status, OPEN_RESTORE_STATUSES)))
    .returning({ id: snapshotRestores.id, hostId: snapshotRestores.hostId, snapshotId: snapshotRestores.snapshotId });
  // A host named twice in a batch (two sockets) gets its restores once: the first asker sends them.
  const byHost = new Map<string, TRestore[]>();
  for (const r of rows) byHost.set(r.hostId, [...(byHost.get(r.hostId) ?? []), { type: 'restore', id: crypto.randomUUID(), restoreId: r.id, snapshotId: r.snapshotId }]);
  return hostIds.map((id) => {
    const restores = byHost.get(id) ?? [];
    byHost.delete(id);
    return restores;
  });
});

/** The agent's report on a restore; only for this host's restores, and a finished one stays finished. */
export async function recordRestoreStatus(hostId: string, message: TRestoreStatus) {
  const final = message.status !== 'running';
  await db()
    .update(snapshotRestores)
    .set({ status: message.status, message: message.message, ...(final ? { finishedAt: new Date() } : {}) })
    .where(and(eq(snapshotRestores.id, message.restoreId), eq(snapshotRestores.hostId, hostId), inArray(snapshotRestores.status, OPEN_RESTORE_STATUSES)));
}
