import clsx from 'clsx';
import Link from 'next/link';
import type { Caller } from '@/lib/auth/caller';
import { can } from '@/lib/auth/caller';

export function SettingsTabs({ caller, current }: { caller: Caller; current: 'general' | 'users' | 'tokens' }) {
  const tabs = [
    { id: 'general', href: '/settings', label: 'General', show: true },
    { id: 'users', href: '/settings/users', label: 'Members', show: can(caller, 'users.read') },
    { id: 'tokens', href: '/settings/tokens', label: 'API tokens', show: can(caller, 'tokens.own') },
  ].filter((t) => t.show);
  return (
    <div className="mb-6 flex gap-1 border-b border-slate-200 dark:border-slate-800">
      {tabs.map((t) => (
        <Link
          key={t.id}
          href={t.href}
          className={clsx(
            '-mb-px border-b-2 px-3 py-2 text-sm font-medium',
            t.id === current ? 'border-brand-600 text-brand-700 dark:text-white' : 'border-transparent text-slate-500 hover:text-slate-800 dark:hover:text-slate-200',
          )}
        >
          {t.label}
        </Link>
      ))}
    </div>
  );
}
