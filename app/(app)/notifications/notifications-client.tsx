'use client';

import clsx from 'clsx';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useTransition } from 'react';
import { markNotificationsRead, relativeTime } from '@/components/shell/notification-bell';
import { Button } from '@/components/ui/button';
import type { TNotification } from '@/lib/notify/people-schemas';

/** The full list; marking read goes through the bell's feed so the count drops everywhere at once. */
export function NotificationList({ items, unread, now }: { items: TNotification[]; unread: number; now: number }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const markAll = () =>
    startTransition(async () => {
      await markNotificationsRead('all');
      router.refresh();
    });

  return (
    <>
      <div className="flex items-center justify-between border-b border-slate-200 px-5 py-3 text-sm dark:border-slate-800">
        <span className="text-slate-500 dark:text-slate-400" data-testid="notifications-unread">
          {unread === 0 ? 'All read' : `${unread} unread`}
        </span>
        <Button variant="secondary" size="sm" disabled={unread === 0 || pending} onClick={markAll}>
          Mark all read
        </Button>
      </div>
      <ul className="divide-y divide-slate-100 dark:divide-slate-800">
        {items.map((n) => (
          <li key={n.id} data-testid="notification-row" data-unread={n.readAt ? undefined : 'true'}>
            <Link
              href={n.url ?? '/notifications'}
              onClick={() => {
                if (!n.readAt) void markNotificationsRead([n.id]);
              }}
              className="flex gap-3 px-5 py-4 hover:bg-slate-50 dark:hover:bg-slate-800/40"
            >
              <span className={clsx('mt-1.5 h-2 w-2 shrink-0 rounded-full', n.readAt ? 'bg-transparent' : 'bg-brand-600 dark:bg-blue-400')} aria-hidden="true" />
              <span className="min-w-0 flex-1">
                <span className={clsx('block text-sm', n.readAt ? 'text-slate-600 dark:text-slate-400' : 'font-medium')}>{n.title}</span>
                {n.body ? <span className="mt-0.5 block whitespace-pre-line text-sm text-slate-500 dark:text-slate-400">{n.body}</span> : null}
              </span>
              <time dateTime={n.createdAt} title={n.createdAt} className="shrink-0 text-xs text-slate-500">
                {relativeTime(n.createdAt, now)}
              </time>
            </Link>
          </li>
        ))}
      </ul>
    </>
  );
}
