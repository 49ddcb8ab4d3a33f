import type { Metadata } from 'next';
import Link from 'next/link';
import { z } from 'zod';
import { buttonClass } from '@/components/ui/button';
import { Card, EmptyState, PageHeader } from '@/components/ui/card';
import { pageCaller } from '@/lib/auth/page';
import { listNotifications, unreadCount } from '@/lib/notify/inbox';
import { NotificationList } from './notifications-client';

export const metadata: Metadata = { title: 'Notifications' };

const PAGE_SIZE = 50;

export default async function NotificationsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { caller } = await pageCaller('authenticated');
  const raw = await searchParams;
  // A mangled ?before= shows the newest page rather than an error.
  const before = z.uuid().safeParse(raw.before).data;
  // One more than a page tells whether there is an older page.
  const [rows, unread] = await Promise.all([listNotifications(caller, { limit: PAGE_SIZE + 1, before }), unreadCount(caller)]);
  const page = rows.slice(0, PAGE_SIZE);
  const older = rows.length > PAGE_SIZE ? page.at(-1)?.id : undefined;
  return (
    <>
      <PageHeader
        title="Notifications"
        description={`What happened to your requests and the ones you review in ${caller.org.name}.`}
      />
      <Card>
        {page.length === 0 ? (
          <EmptyState title={before ? 'No older notifications' : 'No notifications yet'}>
            {before ? null : 'When a request you filed or review changes, it shows up here and under the bell.'}
          </EmptyState>
        ) : (
          <NotificationList items={page} unread={unread} now={Date.now()} />
        )}
        {before || older ? (
          <div className="flex justify-end gap-2 border-t border-slate-200 px-5 py-3 dark:border-slate-800">
            {before ? (
              <Link className={buttonClass('secondary', 'sm')} href="/notifications">
                Newest
              </Link>
            ) : null}
            {older ? (
              <Link className={buttonClass('secondary', 'sm')} href={`/notifications?before=${older}`}>
                Older
              </Link>
            ) : null}
          </div>
        ) : null}
      </Card>
    </>
  );
}
