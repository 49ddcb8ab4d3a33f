import clsx from 'clsx';
import Link from 'next/link';

export function Tabs({ tabs, current }: { tabs: { id: string; href: string; label: string }[]; current: string }) {
  return (
    <div className="mb-6 flex gap-1 border-b border-slate-200 dark:border-slate-800">
      {tabs.map((t) => (
        <Link
          key={t.id}
          href={t.href}
          aria-current={t.id === current ? 'page' : undefined}
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
