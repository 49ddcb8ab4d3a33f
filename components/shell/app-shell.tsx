'use client';

import clsx from 'clsx';
import { signOut } from 'next-auth/react';
import { useTheme } from 'next-themes';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useState, useTransition } from 'react';
import { Logo } from '@/components/brand/logo';
import type { ActionState } from '@/lib/api/action';
import { Icon } from './icons';
import { NotificationBell } from './notification-bell';
import type { NavItem } from './nav';

type Props = {
  nav: NavItem[];
  user: { name: string; email: string; role: string };
  org: { id: string; name: string };
  orgs: { id: string; name: string; role: string }[];
  /** The settings page's switchOrgAction, handed down by the layout: components never import app/. */
  switchOrg: (prev: null, input: { orgId: string }) => Promise<ActionState>;
  children: React.ReactNode;
};

function isActive(pathname: string, href: string) {
  if (href === '/') return pathname === '/';
  if (href === '/settings') return pathname === '/settings';
  return pathname === href || pathname.startsWith(`${href}/`);
}

export function AppShell({ nav, user, org, orgs, switchOrg, children }: Props) {
  const pathname = usePathname();
  const [open, setOpen] = useState(false);
  const { resolvedTheme, setTheme } = useTheme();
  const [switching, startSwitch] = useTransition();

  const sidebar = (
    <nav className="flex h-full flex-col gap-6 px-4 py-5" aria-label="Main">
      <Link href="/" className="flex items-center gap-2.5 px-2">
        <Logo />
        <span className="text-lg font-semibold tracking-tight">Flotilla</span>
      </Link>
      {orgs.length > 1 ? (
        <select
          aria-label="Organisation"
          className="rounded-md border-0 bg-slate-100 px-2.5 py-1.5 text-sm ring-1 ring-inset ring-slate-200 dark:bg-slate-800 dark:ring-slate-700"
          value={org.id}
          disabled={switching}
          onChange={(e) => startSwitch(async () => void (await switchOrg(null, { orgId: e.target.value })))}
        >
          {orgs.map((o) => (
            <option key={o.id} value={o.id}>
              {o.name}
            </option>
          ))}
        </select>
      ) : (
        <p className="px-2 text-xs font-medium uppercase tracking-wide text-slate-500">{org.name}</p>
      )}
      <ul className="flex flex-1 flex-col gap-1">
        {nav.map((item) => (
          <li key={item.href}>
            <Link
              href={item.href}
              onClick={() => setOpen(false)}
              aria-current={isActive(pathname, item.href) ? 'page' : undefined}
              className={clsx(
                'flex items-center gap-3 rounded-md px-2.5 py-2 text-sm font-medium',
                isActive(pathname, item.href)
                  ? 'bg-brand-50 text-brand-700 dark:bg-slate-800 dark:text-white'
                  : 'text-slate-600 hover:bg-slate-100 hover:text-slate-900 dark:text-slate-400 dark:hover:bg-slate-800/60 dark:hover:text-white',
              )}
            >
              <Icon name={item.icon} />
              {item.label}
            </Link>
          </li>
        ))}
      </ul>
      <div className="space-y-3 border-t border-slate-200 pt-4 dark:border-slate-800">
        <div className="px-2">
          <p className="truncate text-sm font-medium" data-testid="current-user">
            {user.name}
          </p>
          <p className="truncate text-xs text-slate-500">{user.email}</p>
          <p className="mt-1 text-xs text-slate-500">
            Role: <span className="font-medium text-slate-700 dark:text-slate-300">{user.role}</span>
          </p>
        </div>
        <div className="flex items-center gap-2 px-1">
          <button
            type="button"
            onClick={() => setTheme(resolvedTheme === 'dark' ? 'light' : 'dark')}
            className="rounded-md p-2 text-slate-500 hover:bg-slate-100 hover:text-slate-900 dark:hover:bg-slate-800 dark:hover:text-white"
            aria-label="Toggle dark mode"
            title="Toggle dark mode"
          >
            <Icon name={resolvedTheme === 'dark' ? 'sun' : 'moon'} />
          </button>
          <button
            type="button"
            onClick={() => signOut({ callbackUrl: '/login' })}
            className="flex-1 rounded-md px-2.5 py-2 text-left text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 dark:text-slate-400 dark:hover:bg-slate-800 dark:hover:text-white"
          >
            Sign out
          </button>
        </div>
      </div>
    </nav>
  );

  return (
    <div className="min-h-screen lg:flex">
      <aside className="hidden w-64 shrink-0 border-r border-slate-200 bg-white lg:fixed lg:inset-y-0 lg:block dark:border-slate-800 dark:bg-slate-900">{sidebar}</aside>
      <div className="sticky top-0 z-30 flex items-center gap-3 border-b border-slate-200 bg-white/90 px-4 py-3 backdrop-blur lg:hidden dark:border-slate-800 dark:bg-slate-900/90">
        <button type="button" onClick={() => setOpen(true)} aria-label="Open navigation" className="rounded-md p-1.5 hover:bg-slate-100 dark:hover:bg-slate-800">
          <Icon name="menu" />
        </button>
        <Logo className="h-6 w-6" />
        <span className="font-semibold">Flotilla</span>
        <div className="-my-1.5 ml-auto">
          <NotificationBell orgId={org.id} />
        </div>
      </div>
      {open ? (
        <div className="fixed inset-0 z-40 lg:hidden">
          <button type="button" aria-label="Close navigation" className="absolute inset-0 bg-slate-900/50" onClick={() => setOpen(false)} />
          <aside className="absolute inset-y-0 left-0 w-72 bg-white shadow-xl dark:bg-slate-900">{sidebar}</aside>
        </div>
      ) : null}
      <main className="min-w-0 flex-1 lg:pl-64">
        <header className="mx-auto hidden max-w-6xl justify-end px-10 pt-4 lg:flex">
          <NotificationBell orgId={org.id} />
        </header>
        <div className="mx-auto max-w-6xl px-4 py-8 sm:px-6 lg:px-10 lg:pt-2">{children}</div>
      </main>
    </div>
  );
}
