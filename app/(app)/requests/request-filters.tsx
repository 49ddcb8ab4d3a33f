'use client';

// The queue's filters live in the URL, so a filtered view can be shared and the server
// page lists exactly it.
import { usePathname, useRouter } from 'next/navigation';
import { useState } from 'react';
import { Button } from '@/components/ui/button';
import { Input, Select } from '@/components/ui/form';
import { STATUS_LABELS } from '@/components/requests/format';

type Filters = { status: string; host: string; package: string };

export function RequestFilters({ initial, hosts }: { initial: Filters; hosts: string[] }) {
  const router = useRouter();
  const pathname = usePathname();
  const [filters, setFilters] = useState(initial);
  const go = (next: Filters) => {
    setFilters(next);
    const query = new URLSearchParams(Object.entries(next).filter(([, v]) => v.trim() !== ''));
    router.replace(`${pathname}?${query.toString()}`);
  };
  return (
    <form
      className="flex flex-wrap items-end gap-3 border-b border-slate-200 px-5 py-3 dark:border-slate-800"
      onSubmit={(e) => {
        e.preventDefault();
        go(filters);
      }}
    >
      <label className="space-y-1 text-xs font-medium text-slate-500 dark:text-slate-400">
        <span className="block">Status</span>
        <Select aria-label="Status" className="w-48" value={filters.status} onChange={(e) => go({ ...filters, status: e.target.value })}>
          <option value="submitted">Waiting for review</option>
          <option value="open">Open (not finished)</option>
          <option value="all">All</option>
          {Object.entries(STATUS_LABELS)
            .filter(([status]) => status !== 'submitted')
            .map(([status, label]) => (
              <option key={status} value={status}>
                {label[0]?.toUpperCase()}
                {label.slice(1)}
              </option>
            ))}
        </Select>
      </label>
      <label className="space-y-1 text-xs font-medium text-slate-500 dark:text-slate-400">
        <span className="block">Machine</span>
        <Input aria-label="Machine" className="w-44" list="request-filter-hosts" placeholder="any" value={filters.host} onChange={(e) => setFilters({ ...filters, host: e.target.value })} />
      </label>
      <datalist id="request-filter-hosts">
        {hosts.map((h) => (
          <option key={h} value={h} />
        ))}
      </datalist>
      <label className="space-y-1 text-xs font-medium text-slate-500 dark:text-slate-400">
        <span className="block">Package</span>
        <Input aria-label="Package" className="w-44" placeholder="any" value={filters.package} onChange={(e) => setFilters({ ...filters, package: e.target.value })} />
      </label>
      <Button type="submit" variant="secondary">
        Filter
      </Button>
      {initial.host || initial.package ? (
        <Button type="button" variant="ghost" onClick={() => go({ status: filters.status, host: '', package: '' })}>
          Clear
        </Button>
      ) : null}
    </form>
  );
}
