// Everything the host page and `GET /api/v1/hosts/:name` show about one host.
import { desc, eq } from 'drizzle-orm';
import type { Caller } from '@/lib/auth/caller';
import { deployments, deploymentTargets } from '@/lib/db/schema';
import { db } from '@/lib/db/client';
import { latestVersionNumber } from './configs';
import { activeEnrollToken } from './enroll-tokens';
import { assigneeEmails, findHost, summarize } from './inventory';
import { modulesForTags } from './modules';

export async function hostDetail(caller: Caller, name: string) {
  const host = await findHost(caller, name);
  const [version, assignees, modules, enroll, recent] = await Promise.all([
    latestVersionNumber(host.id),
    assigneeEmails(db(), host.id),
    modulesForTags(caller.org.id, host.tags),
    activeEnrollToken(db(), host.id),
    db()
      .select({ id: deployments.id, status: deployments.status, createdAt: deployments.createdAt, phase: deploymentTargets.phase, storePath: deploymentTargets.storePath })
      .from(deploymentTargets)
      .innerJoin(deployments, eq(deployments.id, deploymentTargets.deploymentId))
      .where(eq(deploymentTargets.hostId, host.id))
      .orderBy(desc(deployments.createdAt))
      .limit(10),
  ]);
  return {
    ...summarize(host, version),
    bootedSystem: host.bootedSystem,
    nixosVersion: host.nixosVersion,
    agentVersion: host.agentVersion,
    enrolledAt: host.enrolledAt?.toISOString() ?? null,
    createdAt: host.createdAt.toISOString(),
    health: host.lastHealth ?? null,
    assignees,
    modules: modules.map((m) => ({ name: m.name, version: m.version, tags: m.tags })),
    enrollToken: enroll ? { expiresAt: enroll.expiresAt.toISOString(), createdAt: enroll.createdAt.toISOString() } : null,
    recentDeployments: recent.map((d) => ({ id: d.id, status: d.status, phase: d.phase, storePath: d.storePath, createdAt: d.createdAt.toISOString() })),
  };
}
