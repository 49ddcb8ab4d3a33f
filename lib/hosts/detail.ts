// Everything the host page and `GET /api/v1/hosts/:name` show about one host.
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Caller } from '@/lib/auth/caller';
import { builds, deployments, deploymentTargets } from '@/lib/db/schema';
import { db } from '@/lib/db/client';
import { latestVersionNumber } from './configs';
import { activeEnrollToken } from './enroll-tokens';
import { assigneeEmails, summarize } from './inventory';
import type { HostInReach } from './reach';
import { modulesForTags } from './modules';

async function lastSucceededBuild(hostId: string) {
  const [row] = await db()
    .select({ id: builds.id, status: builds.status, storePath: builds.storePath, configVersion: builds.configVersion })
    .from(builds)
    .where(and(eq(builds.hostId, hostId), eq(builds.status, 'succeeded'), eq(builds.preview, false)))
    .orderBy(desc(builds.finishedAt))
    .limit(1);
  return row;
}

export async function hostDetail(caller: Caller, host: HostInReach) {
  const [version, assignees, modules, enroll, recent, recentBuilds] = await Promise.all([
    latestVersionNumber(host.id),
    assigneeEmails(db(), host.id),
    modulesForTags(caller.org.id, host.tags),
    activeEnrollToken(db(), host.id),
    db()
      .select({
        id: deployments.id,
        status: deployments.status,
        createdAt: deployments.createdAt,
        phase: deploymentTargets.phase,
        storePath: deploymentTargets.storePath,
        error: deploymentTargets.error,
        rollbackReason: deploymentTargets.rollbackReason,
        // Progress lines join the log with the result; until then they are shown after it.
        log: sql<string>`${deploymentTargets.log} || coalesce(${deploymentTargets.progress}, '')`,
        finishedAt: deploymentTargets.finishedAt,
      })
      .from(deploymentTargets)
      .innerJoin(deployments, eq(deployments.id, deploymentTargets.deploymentId))
      .where(eq(deploymentTargets.hostId, host.id))
      .orderBy(desc(deployments.createdAt))
      .limit(10),
    db()
      .select({ id: builds.id, status: builds.status, storePath: builds.storePath, configVersion: builds.configVersion, createdAt: builds.createdAt, finishedAt: builds.finishedAt })
      .from(builds)
      .where(and(eq(builds.hostId, host.id), eq(builds.preview, false)))
      .orderBy(desc(builds.createdAt))
      .limit(5),
  ]);
  const lastGood = recentBuilds.find((b) => b.status === 'succeeded') ?? (await lastSucceededBuild(host.id));
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
    recentBuilds: recentBuilds.map((b) => ({ ...b, createdAt: b.createdAt.toISOString(), finishedAt: b.finishedAt?.toISOString() ?? null })),
    // The newest successful build: what a deployment would ship. A failed build never replaces it.
    currentBuild: lastGood ? { id: lastGood.id, storePath: lastGood.storePath, configVersion: lastGood.configVersion } : null,
    recentDeployments: recent.map((d) => ({ ...d, createdAt: d.createdAt.toISOString(), finishedAt: d.finishedAt?.toISOString() ?? null })),
  };
}
