// Deployment milestones for webhooks: started, halted, finished, each sent once per
// deployment (the event key), with a one-line summary for chat. Called by the outbox's
// subscribers (lib/events/subscribers.ts) after the step that reached the milestone
// committed; errors are thrown so the outbox retries.
import { eq, sql } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { deployments, deploymentTargets } from '@/lib/db/schema';
import { env } from '@/lib/env';
import { emitEvent } from '@/lib/notify/emit';
import type { TPersonNotice } from '@/lib/notify/people';

export type DeploymentMilestone = 'deployment.started' | 'deployment.halted' | 'deployment.finished';

export async function notifyDeployment(id: string, type: DeploymentMilestone) {
  const event = type.slice('deployment.'.length);
  const [d] = await db().select().from(deployments).where(eq(deployments.id, id));
  if (!d) return;
  const phases = await db()
    .select({ phase: deploymentTargets.phase, n: sql<number>`count(*)::int` })
    .from(deploymentTargets)
    .where(eq(deploymentTargets.deploymentId, id))
    .groupBy(deploymentTargets.phase);
  const counts = Object.fromEntries(phases.map((p) => [p.phase, p.n]));
  const total = phases.reduce((sum, p) => sum + p.n, 0);
  const url = `${env().publicUrl}/deployments/${id}`;
  const name = `Deployment ${id.slice(0, 8)}`;
  const summary =
    event === 'started'
      ? `${name} started: ${total} host${total === 1 ? '' : 's'}`
      : event === 'halted'
        ? `${name} ${d.status === 'rolled-back' ? 'is rolling back' : 'halted'}: ${d.reason ?? 'no reason recorded'}`
        : `${name} ${d.status}${d.reason ? `: ${d.reason}` : ''}`;
  await emitEvent(d.orgId, {
    type,
    key: `${id}:${event}`,
    summary,
    url,
    data: { id, status: d.status, source: d.source, reason: d.reason, rollbackOf: d.rollbackOf, hosts: total, counts },
  });
}

/** A target's pre-switch checks found an error: the people who can decide are told once (the key). */
export function blockedNotice(deploymentId: string, host: string): TPersonNotice {
  return {
    kind: 'deployment.decision',
    key: `${deploymentId}:${host}:decision`,
    title: `${host} waits for a decision before switching (deployment ${deploymentId.slice(0, 8)})`,
    url: '/decisions',
  };
}

