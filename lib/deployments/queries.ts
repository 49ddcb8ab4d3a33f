import { and, asc, eq } from 'drizzle-orm';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { db } from '@/lib/db/client';
import { deployments, deploymentTargets, hosts } from '@/lib/db/schema';

export async function getDeployment(caller: Caller, id: string) {
  const [deployment] = await db()
    .select()
    .from(deployments)
    .where(and(eq(deployments.id, id), eq(deployments.orgId, caller.org.id)));
  if (!deployment) throw new AppError('not_found', 'No such deployment');
  const targets = await db()
    .select({ target: deploymentTargets, host: hosts.name })
    .from(deploymentTargets)
    .innerJoin(hosts, eq(hosts.id, deploymentTargets.hostId))
    .where(eq(deploymentTargets.deploymentId, id))
    .orderBy(asc(hosts.name));
  return {
    id: deployment.id,
    status: deployment.status,
    source: deployment.source,
    strategy: deployment.strategy,
    createdAt: deployment.createdAt.toISOString(),
    finishedAt: deployment.finishedAt?.toISOString() ?? null,
    targets: targets.map(({ target: t, host }) => ({
      id: t.id,
      host,
      storePath: t.storePath,
      phase: t.phase,
      error: t.error,
      rollbackReason: t.rollbackReason,
      sentAt: t.sentAt?.toISOString() ?? null,
      finishedAt: t.finishedAt?.toISOString() ?? null,
    })),
  };
}
