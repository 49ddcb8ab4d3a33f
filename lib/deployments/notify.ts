// Deployment events for webhooks: started, halted, finished, each sent once per
// deployment (the event key), with a one-line summary for chat.
import { eq, sql } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { deployments, deploymentTargets } from '@/lib/db/schema';
import { env } from '@/lib/env';
import { emitEvent } from '@/lib/notify/emit';
import { notifyPeople, usersWithPermission } from '@/lib/notify/people';
import { syncRequestsForDeployment } from '@/lib/requests/progress';

export type DeploymentEvent = 'started' | 'halted' | 'finished';

export async function notifyDeployment(id: string, event: DeploymentEvent) {
  try {
    // Self-service requests follow the deployment their approval started.
    await syncRequestsForDeployment(id);
  } catch (error) {
    console.error(`[rollout] updating the requests of deployment ${id} failed:`, error instanceof Error ? error.message : error);
  }
  try {
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
      type: `deployment.${event}`,
      key: `${id}:${event}`,
      summary,
      url,
      data: { id, status: d.status, source: d.source, reason: d.reason, rollbackOf: d.rollbackOf, hosts: total, counts },
    });
  } catch (error) {
    // A webhook problem never stops a rollout.
    console.error(`[rollout] notifying ${event} of deployment ${id} failed:`, error instanceof Error ? error.message : error);
  }
}

/** A target's pre-switch checks found an error: the people who can decide are told once. */
export async function notifyBlocked(orgId: string, deploymentId: string, host: string) {
  try {
    await notifyPeople(orgId, await usersWithPermission(orgId, 'deployments.write'), {
      kind: 'deployment.decision',
      key: `${deploymentId}:${host}:decision`,
      title: `${host} waits for a decision before switching (deployment ${deploymentId.slice(0, 8)})`,
      url: '/decisions',
    });
  } catch (error) {
    console.error(`[rollout] notifying about the blocked ${host} failed:`, error instanceof Error ? error.message : error);
  }
}
