import { and, asc, count, desc, eq, inArray, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { typedEventStream } from '@/lib/api/sse';
import { ZDeploymentStream } from '@/lib/api/streams';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { db } from '@/lib/db/client';
import { deployments, deploymentTargets, hosts, users } from '@/lib/db/schema';
import { ZRollout } from '@/lib/db/json-types';
import { FAILED_TARGET_PHASES, isFinalDeployment, UNFINISHED_DEPLOYMENT_STATUSES } from '@/lib/db/statuses';
import { parseCheckItems, parseDecision, type TDeploymentView } from './schemas';
import { outsideWindow } from './strategy';

export async function getDeployment(caller: Caller, id: string): Promise<TDeploymentView> {
  const [row] = await db()
    .select({ deployment: deployments, createdBy: users.email })
    .from(deployments)
    .leftJoin(users, eq(users.id, deployments.createdBy))
    .where(and(eq(deployments.id, id), eq(deployments.orgId, caller.org.id)));
  if (!row) throw new AppError('not_found', 'No such deployment');
  const d = row.deployment;
  const strategy = ZRollout.parse(d.strategy);
  const decider = alias(users, 'decider');
  const targets = await db()
    .select({ target: deploymentTargets, host: { name: hosts.name, online: hosts.online, tags: hosts.tags }, decidedBy: decider.email })
    .from(deploymentTargets)
    .innerJoin(hosts, eq(hosts.id, deploymentTargets.hostId))
    .leftJoin(decider, eq(decider.id, deploymentTargets.decidedBy))
    .where(eq(deploymentTargets.deploymentId, id))
    .orderBy(asc(deploymentTargets.wave), asc(hosts.name));
  const [rollback] = await db().select({ id: deployments.id }).from(deployments).where(and(eq(deployments.rollbackOf, id), eq(deployments.orgId, caller.org.id))).limit(1);
  const now = new Date();
  const counts: Record<string, number> = {};
  for (const { target } of targets) counts[target.phase] = (counts[target.phase] ?? 0) + 1;
  const iso = (at: Date | null) => at?.toISOString() ?? null;
  return {
    id: d.id,
    status: d.status,
    source: d.source,
    strategy,
    reason: d.reason,
    rollbackOf: d.rollbackOf,
    rolledBackBy: rollback?.id ?? null,
    createdBy: row.createdBy,
    createdAt: d.createdAt.toISOString(),
    startedAt: iso(d.startedAt),
    finishedAt: iso(d.finishedAt),
    watchUntil: iso(d.watchUntil),
    counts,
    targets: targets.map(({ target: t, host, decidedBy }) => ({
      id: t.id,
      host: host.name,
      storePath: t.storePath,
      previousSystem: t.previousSystem,
      buildId: t.buildId,
      wave: t.wave,
      phase: t.phase,
      waiting:
        t.phase !== 'pending' || isFinalDeployment(d.status)
          ? null
          : t.storePath === null
            ? 'waiting for its build'
            : !host.online
              ? 'host offline'
              : t.releasedAt
                ? null
                : outsideWindow(host.tags, strategy.maintenanceWindows, now),
      error: t.error,
      rollbackReason: t.rollbackReason,
      releasedAt: iso(t.releasedAt),
      sentAt: iso(t.sentAt),
      finishedAt: iso(t.finishedAt),
      checks: parseCheckItems(t.checks),
      decision: parseDecision(t.decision),
      decidedBy,
      decidedAt: iso(t.decidedAt),
    })),
  };
}

/** The history page's and the API's status filter: one status, or every deployment still moving. */
export const DEPLOYMENT_FILTERS = ['active', 'succeeded', 'failed', 'halted', 'rolled-back', 'cancelled'] as const;
export type DeploymentFilter = (typeof DEPLOYMENT_FILTERS)[number];

export const ZDeploymentListQuery = z.object({
  status: z.enum(DEPLOYMENT_FILTERS).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
export type TDeploymentListQuery = z.input<typeof ZDeploymentListQuery>;

export const ZDeploymentSummary = z.object({
  id: z.uuid(),
  status: z.string(),
  source: z.string(),
  rollbackOf: z.uuid().nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  targets: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
});
export type TDeploymentSummary = z.infer<typeof ZDeploymentSummary>;

/** Newest first, in the caller's organisation, optionally one status (or all active ones), a page at a time. */
export async function listDeployments(caller: Caller, query: TDeploymentListQuery = {}): Promise<{ deployments: TDeploymentSummary[]; total: number }> {
  const { status, limit, offset } = ZDeploymentListQuery.parse(query);
  const where = and(
    eq(deployments.orgId, caller.org.id),
    status === undefined ? undefined : status === 'active' ? inArray(deployments.status, [...UNFINISHED_DEPLOYMENT_STATUSES]) : eq(deployments.status, status),
  );
  const counted = (phases: readonly string[]) =>
    sql<number>`(select count(*) from deployment_targets t where t.deployment_id = ${deployments.id} and t.phase::text in (${sql.join(
      phases.map((p) => sql`${p}`),
      sql`, `,
    )}))::int`;
  const [rows, [total]] = await Promise.all([
    db()
      .select({
        deployment: deployments,
        targets: sql<number>`(select count(*) from deployment_targets t where t.deployment_id = ${deployments.id})::int`,
        succeeded: counted(['succeeded']),
        failed: counted(FAILED_TARGET_PHASES),
        createdBy: users.email,
      })
      .from(deployments)
      .leftJoin(users, eq(users.id, deployments.createdBy))
      .where(where)
      .orderBy(desc(deployments.createdAt), desc(deployments.id))
      .limit(limit)
      .offset(offset),
    db().select({ n: count() }).from(deployments).where(where),
  ]);
  return {
    total: total?.n ?? 0,
    deployments: rows.map((r) => ({
      id: r.deployment.id,
      status: r.deployment.status,
      source: r.deployment.source,
      rollbackOf: r.deployment.rollbackOf,
      createdBy: r.createdBy,
      createdAt: r.deployment.createdAt.toISOString(),
      startedAt: r.deployment.startedAt?.toISOString() ?? null,
      finishedAt: r.deployment.finishedAt?.toISOString() ?? null,
      targets: r.targets,
      succeeded: r.succeeded,
      failed: r.failed,
    })),
  };
}

/** Live view of a deployment: its status and every target's phase, sent when they change. */
export function deploymentEvents(caller: Caller, id: string, signal: AbortSignal) {
  let last = '';
  return typedEventStream(ZDeploymentStream, async () => {
    const view = await getDeployment(caller, id);
    const snapshot = JSON.stringify(view);
    const done = isFinalDeployment(view.status);
    if (snapshot === last) return { events: [], done };
    last = snapshot;
    return { events: [{ event: 'deployment' as const, data: view }], done };
  }, signal);
}
