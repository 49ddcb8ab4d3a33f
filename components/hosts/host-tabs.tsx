import clsx from 'clsx';
import Link from 'next/link';

export function HostTabs({ name, current }: { name: string; current: 'overview' | 'config' | 'history' }) {
  const tabs = [
    { id: 'overview', href: `/hosts/${name}`, label: 'Overview' },
    { id: 'config', href: `/hosts/${name}/config`, label: 'Configuration' },
    { id: 'history', href: `/hosts/${name}/history`, label: 'History' },
  ];
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
