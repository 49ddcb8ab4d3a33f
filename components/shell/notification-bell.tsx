'use client';

// The bell in the shell header: unread count and the newest notifications, live from
// `GET /api/v1/notifications` as Server-Sent Events. The shell mounts a bell in the
// desktop header and one in the mobile bar; both read one shared feed, so a tab holds
// one stream whatever is on screen.
import clsx from 'clsx';
import Link from 'next/link';
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { openEventStream } from '@/lib/api/event-stream';
import { ZNotificationStream } from '@/lib/api/streams';
import type { TNotification, TNotificationList } from '@/lib/notify/people-schemas';

// ---------------------------------------------------------------- the shared feed

type Feed = { summary: TNotificationList | null };

let feed: Feed = { summary: null };
const listeners = new Set<() => void>();
/** Closes the feed's stream; null while none is open. */
let source: { close: () => void } | null = null;
let retryTimer: ReturnType<typeof setTimeout> | undefined;

function publish(summary: TNotificationList) {
  feed = { summary };
  for (const listener of listeners) listener();
}

// The one place that does not use useEventStream: the feed outlives any one bell (see above).
function connect() {
  clearTimeout(retryTimer);
  const handle = {
    close: openEventStream('/api/v1/notifications', ZNotificationStream, {
      onEvent: (e) => {
        if (e.event === 'notifications') publish(e.data);
      },
      onError: (closed) => {
        // A dropped connection is retried by EventSource itself; an HTTP error (signed out,
        // server restarting) closes it for good, so try again later ourselves.
        if (closed && source === handle && listeners.size > 0) retryTimer = setTimeout(connect, 30_000);
      },
    }),
  };
  source = handle;
}

let feedOrg: string | null = null;

/** The stream answers for the organisation of the session when it connected: after a switch, start over. */
function followOrg(orgId: string) {
  if (feedOrg === orgId) return;
  const first = feedOrg === null;
  feedOrg = orgId;
  if (first || !source) return;
  source.close();
  feed = { summary: null };
  for (const listener of listeners) listener();
  connect();
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  if (!source) connect();
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      clearTimeout(retryTimer);
      source?.close();
      source = null;
    }
  };
}

/** Marks read on the server and at once in the bell; the stream confirms within seconds. */
export async function markNotificationsRead(ids: string[] | 'all') {
  const current = feed.summary;
  if (current) {
    const now = new Date().toISOString();
    const hit = (n: TNotification) => !n.readAt && (ids === 'all' || ids.includes(n.id));
    const newlyRead = ids === 'all' ? current.unread : current.notifications.filter(hit).length;
    publish({
      unread: Math.max(0, current.unread - newlyRead),
      notifications: current.notifications.map((n) => (hit(n) ? { ...n, readAt: now } : n)),
    });
  }
  const res = await fetch('/api/v1/notifications/read', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ids === 'all' ? {} : { ids }),
  }).catch(() => null);
  // The stream sends only changes, so after a failed write the bell would keep showing
  // the guess: start the stream again for the server's view.
  if (!res?.ok && source) {
    source.close();
    connect();
  }
}

// ---------------------------------------------------------------- time

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86_400],
  ['month', 30 * 86_400],
  ['week', 7 * 86_400],
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
];

/** "3 minutes ago", "yesterday", "just now". */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  if (Math.abs(seconds) < 45) return 'just now';
  const format = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(Math.round(seconds / 60), 'minute');
}

// ---------------------------------------------------------------- the bell

function BellIcon() {
  return (
    <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.75} strokeLinecap="round" strokeLinejoin="round" className="h-5 w-5" aria-hidden="true">
      <path d="M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9M10.3 21a1.94 1.94 0 0 0 3.4 0" />
    </svg>
  );
}

export function NotificationBell({ orgId }: { orgId: string }) {
  const { summary } = useSyncExternalStore(
    subscribe,
    () => feed,
    () => feed,
  );
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => followOrg(orgId), [orgId]);
  const unread = summary?.unread ?? 0;
  const items = summary?.notifications ?? [];

  useEffect(() => {
    if (!open) return;
    const onPointer = (e: PointerEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onPointer);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  return (
    <div className="relative" ref={root} data-testid="notification-bell">
      <button
        type="button"
        onClick={() => setOpen((o) => !o)}
        aria-expanded={open}
        aria-haspopup="true"
        aria-label={unread ? `Notifications, ${unread} unread` : 'Notifications'}
        title="Notifications"
        className="relative rounded-md p-2 text-slate-500 hover:bg-slate-100 hover:text-slate-900 dark:text-slate-400 dark:hover:bg-slate-800 dark:hover:text-white"
      >
        <BellIcon />
        {unread > 0 ? (
          <span
            data-testid="notification-count"
            className="absolute -right-0.5 -top-0.5 min-w-[1.125rem] rounded-full bg-red-600 px-1 text-center text-[11px] font-semibold leading-[1.125rem] text-white tabular-nums"
          >
            {unread > 99 ? '99+' : unread}
          </span>
        ) : null}
      </button>
      {open ? (
        <div
          role="dialog"
          aria-label="Notifications"
          className="absolute right-0 z-50 mt-2 w-80 max-w-[calc(100vw-2rem)] overflow-hidden rounded-lg bg-white shadow-lg ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-700"
        >
          <div className="flex items-center justify-between border-b border-slate-200 px-4 py-2.5 dark:border-slate-800">
            <p className="text-sm font-semibold">Notifications</p>
            <button
              type="button"
              disabled={unread === 0}
              onClick={() => void markNotificationsRead('all')}
              className="text-xs font-medium text-brand-600 hover:underline disabled:cursor-default disabled:text-slate-400 disabled:no-underline dark:text-blue-300 dark:disabled:text-slate-600"
            >
              Mark all read
            </button>
          </div>
          {items.length === 0 ? (
            <p className="px-4 py-8 text-center text-sm text-slate-500 dark:text-slate-400">{summary ? 'Nothing yet' : 'Loading…'}</p>
          ) : (
            <ul className="max-h-96 divide-y divide-slate-100 overflow-y-auto dark:divide-slate-800">
              {items.map((n) => (
                <li key={n.id}>
                  <Link
                    href={n.url ?? '/notifications'}
                    data-testid="notification-item"
                    data-unread={n.readAt ? undefined : 'true'}
                    onClick={() => {
                      setOpen(false);
                      if (!n.readAt) void markNotificationsRead([n.id]);
                    }}
                    className="flex gap-3 px-4 py-3 hover:bg-slate-50 dark:hover:bg-slate-800/60"
                  >
                    <span className={clsx('mt-1.5 h-2 w-2 shrink-0 rounded-full', n.readAt ? 'bg-transparent' : 'bg-brand-600 dark:bg-blue-400')} aria-hidden="true" />
                    <span className="min-w-0">
                      <span className={clsx('block text-sm', n.readAt ? 'text-slate-600 dark:text-slate-400' : 'font-medium')}>{n.title}</span>
                      <time dateTime={n.createdAt} title={n.createdAt} className="text-xs text-slate-500">
                        {relativeTime(n.createdAt)}
                      </time>
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
          )}
          <Link
            href="/notifications"
            onClick={() => setOpen(false)}
            className="block border-t border-slate-200 px-4 py-2.5 text-center text-sm font-medium text-brand-600 hover:bg-slate-50 dark:border-slate-800 dark:text-blue-300 dark:hover:bg-slate-800/60"
          >
            All notifications
          </Link>
        </div>
      ) : null}
    </div>
  );
}
