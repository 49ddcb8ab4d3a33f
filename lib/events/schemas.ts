// The domain events of the transactional outbox: what happened, written by the
// transaction that made it happen (lib/events/outbox.ts), then handed to the
// subscribers (lib/events/subscribers.ts). One zod union: an event is checked when it is
// written and again when it is read back, so a row from an older release that no
// longer parses is reported, not half-handled.
import { z } from 'zod';
import { ZAudience } from '@/lib/notify/notice';
import { ZPersonNotice } from '@/lib/notify/people-schemas';

const ZId = z.uuid();

export const ZDomainEvent = z.discriminatedUnion('type', [
  // Milestones of a rollout: webhooks, and the self-service requests that follow it.
  z.object({ type: z.literal('deployment.started'), deploymentId: ZId }),
  z.object({ type: z.literal('deployment.halted'), deploymentId: ZId }),
  z.object({ type: z.literal('deployment.finished'), deploymentId: ZId }),
  // Something changed that the rollout engine should look at now (a new, resumed or paused deployment).
  z.object({ type: z.literal('deployment.changed'), deploymentId: ZId }),
  // Targets were released to these hosts: the server process holding each socket delivers.
  z.object({ type: z.literal('target.released'), deploymentId: ZId, hostIds: z.array(ZId).min(1) }),
  // A deployment was cancelled while these hosts had targets in flight: their agents are told to stop (before the profile changes).
  z.object({ type: z.literal('deployment.cancelled'), deploymentId: ZId, hostIds: z.array(ZId).min(1) }),
  // A person decided a blocked target: the server process holding the host's socket sends the decision.
  z.object({ type: z.literal('target.decided'), deploymentId: ZId, hostId: ZId }),
  // An operator asked for a snapshot restore: the server process holding the host's socket sends it.
  z.object({ type: z.literal('restore.requested'), restoreId: ZId, hostId: ZId }),
  // An agent's result was recorded: the rollout moves on at once.
  z.object({ type: z.literal('target.finished'), deploymentId: ZId, hostId: ZId }),
  // A host's pre-switch checks found an error and it waits for a person's decision.
  z.object({ type: z.literal('target.blocked'), orgId: ZId, deploymentId: ZId, host: z.string().min(1) }),
  // A self-service request moved (submitted, approved, denied, commented, live, failed): people, and webhooks for milestones.
  z.object({ type: z.literal('request.notice'), orgId: ZId, to: ZAudience, notice: ZPersonNotice, webhook: z.record(z.string(), z.unknown()).optional() }),
  // A build row was written: its job is sent (job id = build id, so twice is once).
  z.object({ type: z.literal('build.queued'), buildId: ZId }),
]);

export type TDomainEvent = z.infer<typeof ZDomainEvent>;
export type TDomainEventInput = z.input<typeof ZDomainEvent>;
export type TEventType = TDomainEvent['type'];
export type EventOf<K extends TEventType> = Extract<TDomainEvent, { type: K }>;
