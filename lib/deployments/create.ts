// Starting a deployment: every named host must be an active host of the organisation
// and every store path a closure the organisation's cache holds, or nothing starts.
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { storeHashOf } from '@/lib/cache/storage';
import { db } from '@/lib/db/client';
import { cacheObjects, deployments, deploymentTargets, hosts } from '@/lib/db/schema';
import { announceDeployment } from '@/lib/agents/host-events';
import { ZRollout, type TCreateDeployment } from './schemas';

export async function createDeployment(caller: Caller, input: TCreateDeployment, source: 'ui' | 'api' | 'request' = 'api') {
  const names = Object.keys(input.agents);
  const strategy = ZRollout.parse(input.rollout ?? {});
  const created = await db().transaction(async (tx) => {
    const found = await tx
      .select()
      .from(hosts)
      .where(and(eq(hosts.orgId, caller.org.id), inArray(hosts.name, names), isNull(hosts.retiredAt)));
    const unknown = names.filter((n) => !found.some((h) => h.name === n));
    if (unknown.length) throw new AppError('unprocessable', `Unknown hosts: ${unknown.join(', ')}`, { unknownHosts: unknown });
    const paths = [...new Set(Object.values(input.agents))];
    const cached = await tx
      .select({ storeHash: cacheObjects.storeHash })
      .from(cacheObjects)
      .where(and(eq(cacheObjects.orgId, caller.org.id), inArray(cacheObjects.storeHash, paths.map(storeHashOf))));
    const missing = paths.filter((p) => !cached.some((c) => c.storeHash === storeHashOf(p)));
    if (missing.length) throw new AppError('unprocessable', `Not in this fleet's binary cache (build or push them first): ${missing.join(', ')}`, { notInCache: missing });

    const [deployment] = await tx
      .insert(deployments)
      .values({ orgId: caller.org.id, status: 'rolling', strategy, source, createdBy: caller.user.id, startedAt: new Date() })
      .returning();
    if (!deployment) throw new Error('insert returned nothing');
    const now = new Date();
    const targets = await tx
      .insert(deploymentTargets)
      .values(found.map((h) => ({ deploymentId: deployment.id, hostId: h.id, storePath: input.agents[h.name] as string, releasedAt: now })))
      .returning({ id: deploymentTargets.id, hostId: deploymentTargets.hostId });
    for (const h of found) await tx.update(hosts).set({ desiredSystem: input.agents[h.name] as string }).where(eq(hosts.id, h.id));
    await recordAudit(tx, caller, { action: 'deployment.create', objectType: 'deployment', objectId: deployment.id, after: { agents: input.agents, strategy } });
    return { deployment, targets, hostNames: new Map(found.map((h) => [h.id, h.name])) };
  });
  // After commit, so the process that delivers reads what was written.
  for (const t of created.targets) await announceDeployment(t.hostId);
  return {
    id: created.deployment.id,
    agents: Object.fromEntries(created.targets.map((t) => [created.hostNames.get(t.hostId) as string, { id: t.id }])),
  };
}
