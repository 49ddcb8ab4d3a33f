// Notifications for people: one in-app row per person and occurrence, and an e-mail job
// for each new row when SMTP is configured. Like emitEvent (webhooks), callers call it
// after their transaction commits: a notice about a change that rolled back would be a lie.
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { roleAllows, type Permission } from '@/lib/auth/permissions';
import { ROLES } from '@/lib/db/enums';
import { db } from '@/lib/db/client';
import { memberships, notifications, users } from '@/lib/db/schema';
import { enqueueNotificationEmail, smtpConfig } from './email-queue';
import { ZPersonNotice } from './people-schemas';

export type TPersonNotice = {
  kind: string; // e.g. 'request.submitted' | 'request.approved' | 'request.denied' | 'request.live' | 'request.failed' | 'request.comment'
  key: string; // identifies the occurrence, e.g. `${requestId}:live`; each person is notified once per key
  title: string; // one line, e.g. 'hello is live on laptop-7'
  body?: string;
  url?: string; // path inside Flotilla, e.g. '/requests/<id>'
};

const ZUserId = z.uuid();

/**
 * Writes one notification per listed person who is a member of the organisation (others
 * are ignored), at most once per (person, key): the same key again writes nothing, so a
 * retried caller does not notify twice. Each new row gets an e-mail job when SMTP is
 * configured. Database errors are thrown; e-mail problems never are (the in-app
 * notification is what counts, and the e-mail is logged). A malformed notice is a
 * programming error and is thrown too.
 */
export async function notifyPeople(orgId: string, userIds: string[], notice: TPersonNotice): Promise<void> {
  const n = ZPersonNotice.parse(notice);
  // Not a UUID cannot be a member; passing it to PostgreSQL would fail the whole insert.
  const ids = [...new Set(userIds)].filter((id) => ZUserId.safeParse(id).success);
  if (ids.length === 0 || !ZUserId.safeParse(orgId).success) return;

  // Membership is checked in the same statement that inserts, so a person removed a
  // moment ago is not notified. (drizzle's insert…select wants every column of the table.)
  const col = (c: { name: string }) => sql.identifier(c.name);
  const inserted = await db().execute(sql`
    insert into ${notifications} (${col(notifications.orgId)}, ${col(notifications.userId)}, ${col(notifications.kind)}, ${col(notifications.title)}, ${col(notifications.body)}, ${col(notifications.url)}, ${col(notifications.eventKey)})
    select m.org_id, m.user_id, ${n.kind}, ${n.title}, ${n.body ?? ''}, ${n.url ?? null}::text, ${n.key}
    from ${memberships} m
    where m.org_id = ${orgId} and m.user_id in (${sql.join(
      ids.map((id) => sql`${id}::uuid`),
      sql`, `,
    )})
    on conflict (${col(notifications.userId)}, ${col(notifications.eventKey)}) do nothing
    returning ${col(notifications.id)}`);
  const created = z.array(z.object({ id: z.uuid() })).parse([...inserted]);

  if (created.length === 0) return;
  try {
    if (!smtpConfig()) return;
    // Were queuing to fail, the person still has the in-app notification; the e-mail is lost and logged.
    for (const { id } of created) await enqueueNotificationEmail(id);
  } catch (error) {
    console.error(`[email] could not queue e-mail for ${created.length} notification(s) of kind ${n.kind}:`, error instanceof Error ? error.message : error);
  }
}

/** Everyone in the org with this permission (e.g. 'requests.review' → operators and admins). Disabled users are left out. */
export async function usersWithPermission(orgId: string, permission: Permission): Promise<string[]> {
  const roles = ROLES.filter((role) => roleAllows(role, permission));
  if (roles.length === 0) return [];
  const rows = await db()
    .select({ id: memberships.userId })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.orgId, orgId), inArray(memberships.role, roles), isNull(users.disabledAt)))
    .orderBy(memberships.createdAt);
  return rows.map((r) => r.id);
}
