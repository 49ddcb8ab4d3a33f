// Every Server-Sent Events stream of the API, as one union of its messages each: the server
// sends through these types (lib/api/sse.ts) and the pages parse with these schemas
// (components/ui/use-event-stream.ts), so both sides read one definition. Browser-safe.
import { z } from 'zod';
import { BUILD_STATUSES, TARGET_PHASES } from '@/lib/db/enums';
import { ZBuildProgress } from '@/lib/db/json-types';
import { ZDeploymentView } from '@/lib/deployments/schemas';
import { ZNotificationList } from '@/lib/notify/people-schemas';
import { ZRequestView } from '@/lib/requests/schemas';
import { eventStream } from './event-stream';

const event = <N extends string, D extends z.ZodType>(name: N, data: D) => z.object({ event: z.literal(name), data });

/** `GET /api/v1/builds/:id/events`: new log text, then the build's status after each poll. */
export const ZBuildStatusEvent = z.object({
  status: z.enum(BUILD_STATUSES),
  progress: ZBuildProgress.nullable(),
  error: z.string().nullable(),
  storePath: z.string().nullable(),
  closureSize: z.number().nullable(),
});
export type TBuildStatusEvent = z.infer<typeof ZBuildStatusEvent>;
export const ZBuildStream = eventStream(event('log', z.object({ text: z.string() })), event('status', ZBuildStatusEvent));

/** `GET /api/v1/hosts/:name/events`: presence, systems and the newest activations, whenever they change. */
export const ZHostSnapshot = z.object({
  online: z.boolean(),
  lastSeen: z.string().nullable(),
  currentSystem: z.string().nullable(),
  bootedSystem: z.string().nullable(),
  desiredSystem: z.string().nullable(),
  agentVersion: z.string().nullable(),
  enrolledAt: z.string().nullable(),
  activations: z.array(z.object({ id: z.uuid(), phase: z.enum(TARGET_PHASES), updatedAt: z.string() })),
});
export type THostSnapshot = z.infer<typeof ZHostSnapshot>;
export const ZHostStream = eventStream(event('host', ZHostSnapshot));

/** `GET /api/v1/deployments/:id/events`: the whole view whenever anything changed; ends when the deployment is final. */
export const ZDeploymentStream = eventStream(event('deployment', ZDeploymentView));

/** `GET /api/v1/requests/:id/events`: the request with its deployment's phase; ends when the request is final. */
export const ZRequestDetail = ZRequestView.extend({ progress: z.object({ deployment: z.string().nullable(), phase: z.string().nullable() }) });
export type TRequestDetail = z.infer<typeof ZRequestDetail>;
export const ZRequestStream = eventStream(event('request', ZRequestDetail));

/** `GET /api/v1/notifications` with `Accept: text/event-stream`: the bell's newest notifications and the unread count. */
export const ZNotificationStream = eventStream(event('notifications', ZNotificationList));
