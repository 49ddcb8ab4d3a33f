// A request follows the deployment its approval started: building while the build
// runs, deploying while the rollout runs, then live or failed. Called by the outbox for
// every milestone of a deployment (lib/events/subscribers.ts); moving only forward makes
// it idempotent, and the requester's notice is written with the move.
import { and, eq, inArray } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import type { RequestStatus } from '@/lib/db/enums';
import { deployments, deploymentTargets, hosts, requests } from '@/lib/db/schema';
import { UNDER_WAY_REQUEST_STATUSES } from '@/lib/db/statuses';
import { transaction } from '@/lib/events/outbox';
import { tell } from './tell';

const RANK: Record<string, number> = { approved: 0, building: 1, deploying: 2, live: 3, failed: 3 };

export async function syncRequestsForDeployment(deploymentId: string) {
  const rows = await db()
    .select({ request: requests, deployment: deployments, target: deploymentTargets, host: hosts.name })
    .from(requests)
    .innerJoin(deployments, eq(deployments.id, requests.deploymentId))
    .innerJoin(hosts, eq(hosts.id, requests.hostId))
    .leftJoin(deploymentTargets, and(eq(deploymentTargets.deploymentId, deployments.id), eq(deploymentTargets.hostId, requests.hostId)))
    .where(and(eq(requests.deploymentId, deploymentId), inArray(requests.status, UNDER_WAY_REQUEST_STATUSES)));
  for (const { request: r, deployment: d, target: t, host } of rows) {
    let status: RequestStatus;
    let failure: string | null = null;
    if (d.status === 'pending') status = 'building';
    else if (d.status === 'canary' || d.status === 'rolling' || d.status === 'paused') status = t?.phase === 'succeeded' ? 'live' : 'deploying';
    else if (t?.phase === 'succeeded') status = 'live';
    else {
      status = 'failed';
      failure = t?.rollbackReason ?? t?.error ?? d.reason ?? `the deployment ended ${d.status}`;
    }
    if (RANK[status] === undefined || (RANK[status] as number) <= (RANK[r.status] as number)) continue;
    await transaction(async (tx) => {
      const [moved] = await tx
        .update(requests)
        .set({ status, failure, updatedAt: new Date() })
        .where(and(eq(requests.id, r.id), eq(requests.status, r.status)))
        .returning({ id: requests.id });
      if (!moved || (status !== 'live' && status !== 'failed')) return;
      const what = r.kind === 'change' ? 'Your change' : `${r.payload.package}`;
      await tell(tx, r.orgId, [r.requesterId], {
        kind: `request.${status}`,
        key: `${r.id}:${status}`,
        title: status === 'live' ? `${what} is live on ${host}` : `${what} could not be deployed to ${host}`,
        body: failure ?? 'The host runs the new configuration.',
        url: `/requests/${r.id}`,
      }, { id: r.id, host, kind: r.kind, ...r.payload, deploymentId, failure });
    });
  }
}
