// A notice about something that happened, for people (in-app and e-mail) and, for
// milestones, the organisation's webhooks. Delivered by the outbox's subscribers after
// the change committed; both halves are idempotent by the notice's key, so a retried
// delivery notifies nobody twice. Errors are thrown: the outbox retries.
import { z } from 'zod';
import { ALL_PERMISSIONS, type Permission } from '@/lib/auth/permissions';
import { env } from '@/lib/env';
import { emitEvent } from './emit';
import { notifyPeople, usersWithPermission, type TPersonNotice } from './people';

/** Who a notice is for: named people, or everyone holding a permission when it is delivered (but the one who acted). */
export const ZAudience = z.union([
  z.array(z.uuid()),
  z.object({ permission: z.enum(ALL_PERMISSIONS as [Permission, ...Permission[]]), except: z.uuid().optional() }),
]);
export type TAudience = z.infer<typeof ZAudience>;

export async function noticePeople(orgId: string, to: TAudience, notice: TPersonNotice) {
  const userIds = Array.isArray(to) ? to : (await usersWithPermission(orgId, to.permission)).filter((id) => id !== to.except);
  if (userIds.length) await notifyPeople(orgId, userIds, notice);
}

/** The webhook event for a milestone notice: its kind is the event type, its key the occurrence. */
export async function noticeWebhooks(orgId: string, notice: TPersonNotice, data: Record<string, unknown>) {
  await emitEvent(orgId, { type: notice.kind, key: notice.key, summary: notice.title, url: notice.url ? `${env().publicUrl}${notice.url}` : undefined, data });
}
