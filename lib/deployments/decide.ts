// Decisions on pre-switch checks (DESIGN.md §10): a target whose checks found an error
// waits in `needs-decision` until a person picks a resolution for each error item. The
// decision is stored on the target (so it survives the agent restarting, the server
// restarting, a reboot) and sent to the agent by whichever server holds its socket, woken
// by the outbox event written with the decision.
import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { db } from '@/lib/db/client';
import { deployments, deploymentTargets, hosts } from '@/lib/db/schema';
import { emit, transaction } from '@/lib/events/outbox';
import { assertTokenReaches } from '@/lib/hosts/reach';
import { parseCheckItems, parseDecision } from './schemas';

export const ZDecide = z.strictObject({ choices: z.record(z.string().max(200), z.string().max(100)) });

export async function decideTarget(caller: Caller, deploymentId: string, targetId: string, choices: Record<string, string>) {
  return transaction(async (tx) => {
    const [row] = await tx
      .select({ target: deploymentTargets, host: { name: hosts.name, tags: hosts.tags } })
      .from(deploymentTargets)
      .innerJoin(deployments, eq(deployments.id, deploymentTargets.deploymentId))
      .innerJoin(hosts, eq(hosts.id, deploymentTargets.hostId))
      .where(and(eq(deploymentTargets.id, targetId), eq(deploymentTargets.deploymentId, deploymentId), eq(deployments.orgId, caller.org.id)))
      .for('update', { of: deploymentTargets });
    if (!row) throw new AppError('not_found', 'No such target');
    assertTokenReaches(caller, [row.host]);
    if (row.target.phase !== 'needs-decision') throw new AppError('conflict', `The target is ${row.target.phase}, not waiting for a decision`);
    if (row.target.decision) throw new AppError('conflict', 'A decision was made already');
    const blocking = parseCheckItems(row.target.checks).filter((i) => i.level === 'error');
    const problems = blocking.flatMap((i) => {
      const chosen = choices[i.id];
      if (!chosen) return [`choose a resolution for ${i.id}`];
      return i.resolutions.some((r) => r.id === chosen) ? [] : [`"${chosen}" is not a resolution of ${i.id} (${i.resolutions.map((r) => r.id).join(', ')})`];
    });
    const unknown = Object.keys(choices).filter((id) => !blocking.some((i) => i.id === id));
    if (unknown.length) problems.push(`not blocking items of this target: ${unknown.join(', ')}`);
    if (problems.length) throw new AppError('unprocessable', problems.join('; '), { problems });
    await tx.update(deploymentTargets).set({ decision: choices, decidedBy: caller.user.id, decidedAt: new Date(), updatedAt: new Date() }).where(eq(deploymentTargets.id, targetId));
    await recordAudit(tx, caller, { action: 'deployment.decide', objectType: 'deployment_target', objectId: targetId, after: { deploymentId, host: row.host.name, choices } });
    await emit(tx, { type: 'target.decided', deploymentId, hostId: row.target.hostId });
    return { targetId, choices };
  });
}

/** The operators' inbox: every target of the organisation waiting for a decision, oldest first. */
export async function pendingDecisions(caller: Caller) {
  const rows = await db()
    .select({ target: deploymentTargets, host: hosts.name })
    .from(deploymentTargets)
    .innerJoin(deployments, eq(deployments.id, deploymentTargets.deploymentId))
    .innerJoin(hosts, eq(hosts.id, deploymentTargets.hostId))
    .where(and(eq(deployments.orgId, caller.org.id), eq(deploymentTargets.phase, 'needs-decision')))
    .orderBy(asc(deploymentTargets.updatedAt));
  return rows.map(({ target: t, host }) => ({
    deploymentId: t.deploymentId,
    targetId: t.id,
    host,
    storePath: t.storePath,
    items: parseCheckItems(t.checks),
    decision: parseDecision(t.decision),
    waitingSince: t.updatedAt.toISOString(),
  }));
}
