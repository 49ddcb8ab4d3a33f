// A person's own notifications: list, count, mark read, and the bell's live stream.
// Every query is scoped to the caller's user and organisation, whatever ids come in.
import { and, count, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { typedEventStream } from '@/lib/api/sse';
import { ZNotificationStream } from '@/lib/api/streams';
import type { Caller } from '@/lib/auth/caller';
import { db } from '@/lib/db/client';
import { notifications } from '@/lib/db/schema';
import type { TNotification, TNotificationList } from './people-schemas';

export const MAX_LIST = 200;

const mine = (caller: Caller) => and(eq(notifications.userId, caller.user.id), eq(notifications.orgId, caller.org.id));

function toNotification(r: typeof notifications.$inferSelect): TNotification {
  return {
    id: r.id,
    kind: r.kind,
    title: r.title,
    body: r.body,
    url: r.url,
    createdAt: r.createdAt.toISOString(),
    readAt: r.readAt?.toISOString() ?? null,
  };
}

export type ListOptions = {
  unreadOnly?: boolean;
  limit?: number;
  /** A notification id: only older ones (the next page). An id that is not the caller's yields nothing. */
  before?: string;
};

/** The caller's notifications, newest first. */
export async function listNotifications(caller: Caller, opts: ListOptions = {}): Promise<TNotification[]> {
  const limit = Math.max(1, Math.min(opts.limit ?? 50, MAX_LIST));
  if (opts.before !== undefined && !z.uuid().safeParse(opts.before).success) return [];
  // (created_at, id) orders rows made in the same microsecond too.
  const cursor = opts.before
    ? sql`(${notifications.createdAt}, ${notifications.id}) < (select n.created_at, n.id from ${notifications} n where n.id = ${opts.before} and n.user_id = ${caller.user.id})`
    : undefined;
  const rows = await db()
    .select()
    .from(notifications)
    .where(and(mine(caller), opts.unreadOnly ? isNull(notifications.readAt) : undefined, cursor))
    .orderBy(desc(notifications.createdAt), desc(notifications.id))
    .limit(limit);
  return rows.map(toNotification);
}

export async function unreadCount(caller: Caller): Promise<number> {
  const [row] = await db()
    .select({ n: count() })
    .from(notifications)
    .where(and(mine(caller), isNull(notifications.readAt)));
  return row?.n ?? 0;
}

/** The newest `limit` and the unread count: what the list route answers and the bell shows. */
export async function notificationSummary(caller: Caller, opts: ListOptions = {}): Promise<TNotificationList> {
  const [list, unread] = await Promise.all([listNotifications(caller, opts), unreadCount(caller)]);
  return { unread, notifications: list };
}

/**
 * Marks the given notifications (or all) read. Ids of other people's notifications, or of
 * another organisation's, change nothing. Returns how many changed from unread to read.
 */
export async function markRead(caller: Caller, ids: string[] | 'all'): Promise<{ marked: number }> {
  if (ids !== 'all') ids = ids.filter((id) => z.uuid().safeParse(id).success);
  if (ids !== 'all' && ids.length === 0) return { marked: 0 };
  const updated = await db()
    .update(notifications)
    .set({ readAt: new Date() })
    .where(and(mine(caller), isNull(notifications.readAt), ids === 'all' ? undefined : inArray(notifications.id, ids)))
    .returning({ id: notifications.id });
  return { marked: updated.length };
}

export const BELL_SIZE = 10;
const STREAM_POLL_MS = 2_000;
// The stream ends after a while and EventSource reconnects on its own: each reconnect goes
// through route() again, so a signed-out or removed person stops getting updates.
const STREAM_LIFETIME_MS = 5 * 60_000;

/** The bell's live feed: a `notifications` event with the summary whenever it changes. */
export function notificationStream(caller: Caller, signal: AbortSignal): ReadableStream<Uint8Array> {
  let last = '';
  const until = Date.now() + STREAM_LIFETIME_MS;
  return typedEventStream(
    ZNotificationStream,
    async () => {
      const summary = await notificationSummary(caller, { limit: BELL_SIZE });
      const snapshot = JSON.stringify(summary);
      const done = Date.now() >= until;
      if (snapshot === last) return { events: [], done };
      last = snapshot;
      return { events: [{ event: 'notifications' as const, data: summary }], done };
    },
    signal,
    STREAM_POLL_MS,
  );
}
