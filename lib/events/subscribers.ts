// Who hears which domain event: every effect that must follow a committed change, in
// one list. The dispatcher (lib/events/dispatch.ts) calls them at least once per event,
// so each is idempotent by the event:
// - webhooks and people: one delivery / notification per (webhook | person, event key);
// - request progress: a request only ever moves forward;
// - agent announce and rollout nudge: a wake-up; the work they wake is guarded;
// - build job: the job id is the build id, so sending it twice queues one job.
// A subscriber throws to be retried; the others' success is remembered (`done`).
import { announceCancel, announceDecision, announceRelease, announceRestore } from '@/lib/agents/host-events';
import { enqueueBuild } from '@/lib/builds/build-job';
import { nudgeRollout } from '@/lib/deployments/events';
import { blockedNotice, notifyDeployment } from '@/lib/deployments/notify';
import { noticePeople, noticeWebhooks } from '@/lib/notify/notice';
import { syncRequestsForDeployment } from '@/lib/requests/progress';
import type { EventOf, TDomainEvent, TEventType } from './schemas';

type Meta = { eventId: string };
export type Subscriber = { name: string; types: readonly TEventType[]; run: (event: TDomainEvent, meta: Meta) => Promise<unknown> };

function on<K extends TEventType>(name: string, types: readonly K[], run: (event: EventOf<K>, meta: Meta) => Promise<unknown>): Subscriber {
  return { name, types, run: (event, meta) => run(event as EventOf<K>, meta) };
}

const MILESTONES = ['deployment.started', 'deployment.halted', 'deployment.finished'] as const;

export const SUBSCRIBERS: Subscriber[] = [
  // Before the webhooks: a request that follows the deployment reaches its own milestone first.
  on('request-progress', MILESTONES, (e) => syncRequestsForDeployment(e.deploymentId)),
  on('deployment-webhooks', MILESTONES, (e) => notifyDeployment(e.deploymentId, e.type)),
  on('people', ['request.notice'], (e) => noticePeople(e.orgId, e.to, e.notice)),
  on('request-webhooks', ['request.notice'], async (e) => e.webhook && noticeWebhooks(e.orgId, e.notice, e.webhook)),
  on('decision-people', ['target.blocked'], (e) => noticePeople(e.orgId, { permission: 'deployments.write' }, blockedNotice(e.deploymentId, e.host))),
  on('agent-announce', ['target.released'], (e) => announceRelease(e.deploymentId)),
  on('agent-cancel', ['deployment.cancelled'], async (e) => {
    for (const hostId of e.hostIds) await announceCancel(hostId);
  }),
  on('agent-decision', ['target.decided'], (e) => announceDecision(e.hostId)),
  on('agent-restore', ['restore.requested'], (e) => announceRestore(e.hostId)),
  on('rollout-nudge', ['deployment.changed', 'target.finished'], (e) => nudgeRollout(e.deploymentId)),
  on('build-job', ['build.queued'], (e) => enqueueBuild(e.buildId, e.buildId)),
];

export function subscribersFor(type: TEventType): Subscriber[] {
  return SUBSCRIBERS.filter((s) => s.types.includes(type));
}
