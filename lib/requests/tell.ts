// Telling people about a request: in-app notifications (and e-mail) for the people
// concerned, and the organisation's webhooks for the request's own milestones. It runs
// after the change committed: a notice that cannot be written is logged, never turned
// into an error for the person acting.
import type { Permission } from '@/lib/auth/permissions';
import { env } from '@/lib/env';
import { emitEvent } from '@/lib/notify/emit';
import { notifyPeople, usersWithPermission, type TPersonNotice } from '@/lib/notify/people';

export async function tell(
  orgId: string,
  who: string[] | { permission: Permission; except?: string },
  notice: TPersonNotice,
  /** For milestones (submitted, approved, denied, live, failed): what webhooks receive. */
  webhook?: Record<string, unknown>,
) {
  try {
    const userIds = Array.isArray(who) ? who : (await usersWithPermission(orgId, who.permission)).filter((id) => id !== who.except);
    if (userIds.length) await notifyPeople(orgId, userIds, notice);
    if (webhook) await emitEvent(orgId, { type: notice.kind, key: notice.key, summary: notice.title, url: notice.url ? `${env().publicUrl}${notice.url}` : undefined, data: webhook });
  } catch (error) {
    console.error(`[requests] notifying about ${notice.key} failed:`, error instanceof Error ? error.message : error);
  }
}
