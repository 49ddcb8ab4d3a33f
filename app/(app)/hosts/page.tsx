import type { Metadata } from 'next';
import Link from 'next/link';
import { Forbidden } from '@/components/shell/forbidden';
import { buttonClass } from '@/components/ui/button';
import { Badge, Card, EmptyState, PageHeader } from '@/components/ui/card';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { listHosts, listTags } from '@/lib/hosts/inventory';
import { ZHostListQuery } from '@/lib/hosts/schemas';
import { HostTable } from './host-table';

export const metadata: Metadata = { title: 'Hosts' };

const STATUSES = [
  ['', 'Any status'],
  ['online', 'Online'],
  ['offline', 'Offline'],
  ['never-seen', 'Never seen'],
  ['drifted', 'Drifted'],
  ['needs-reboot', 'Needs reboot'],
] as const;

export default async function HostsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const caller = await pageCaller();
  if (!can(caller, 'fleet.read')) return <Forbidden what="The host inventory" />;
  const raw = await searchParams;
  const parsed = ZHostListQuery.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== '' && v !== undefined)));
  const query = parsed.success ? parsed.data : ZHostListQuery.parse({});
  const [result, tags] = await Promise.all([listHosts(caller, query), listTags(caller.org.id)]);
  const pages = Math.max(1, Math.ceil(result.total / query.pageSize));

  const href = (change: Record<string, string | number | string[] | undefined>) => {
    const params = new URLSearchParams();
    const merged = { q: query.q, tag: query.tag, status: query.status, sort: query.sort, dir: query.dir, page: query.page, ...change };
    for (const [k, v] of Object.entries(merged)) {
      if (v === undefined || v === '' || (k === 'page' && v === 1) || (k === 'sort' && v === 'name') || (k === 'dir' && v === 'asc')) continue;
      for (const item of Array.isArray(v) ? v : [v]) params.append(k, String(item));
    }
    const s = params.toString();
    return s ? `/hosts?${s}` : '/hosts';
  };

  return (
    <>
      <PageHeader
        title="Hosts"
        description={`${result.total} ${result.total === 1 ? 'host' : 'hosts'}${query.q || query.tag.length || query.status ? ' match' : ' in the fleet'}`}
        actions={
          can(caller, 'hosts.write') ? (
            <Link href="/hosts/new" className={buttonClass('primary')}>
              New host
            </Link>
          ) : null
        }
      />
      <Card className="mb-4 p-4">
        <form method="get" className="flex flex-wrap items-end gap-3">
          <label className="min-w-48 flex-1 text-sm">
            <span className="mb-1 block text-slate-500">Search by name</span>
            <input
              name="q"
              defaultValue={query.q}
              placeholder="web-01"
              className="block w-full rounded-md border-0 bg-white px-3 py-2 text-sm ring-1 ring-inset ring-slate-300 dark:bg-slate-900 dark:ring-slate-700"
            />
          </label>
          <label className="text-sm">
            <span className="mb-1 block text-slate-500">Status</span>
            <select name="status" defaultValue={query.status ?? ''} className="rounded-md border-0 bg-white px-3 py-2 text-sm ring-1 ring-inset ring-slate-300 dark:bg-slate-900 dark:ring-slate-700">
              {STATUSES.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          {query.tag.map((t) => (
            <input key={t} type="hidden" name="tag" value={t} />
          ))}
          <button type="submit" className={buttonClass('primary')}>
            Apply
          </button>
          {query.q || query.tag.length || query.status ? (
            <Link href="/hosts" className={buttonClass('ghost')}>
              Clear
            </Link>
          ) : null}
        </form>
        {tags.length ? (
          <div className="mt-3 flex flex-wrap items-center gap-1.5 text-xs">
            <span className="mr-1 text-slate-500">Tags:</span>
            {tags.map((t) => {
              const active = query.tag.includes(t);
              return (
                <Link
                  key={t}
                  href={href({ tag: active ? query.tag.filter((x) => x !== t) : [...query.tag, t], page: 1 })}
                  className={active ? 'rounded-full bg-brand-600 px-2 py-0.5 font-medium text-white' : 'rounded-full bg-slate-100 px-2 py-0.5 text-slate-700 hover:bg-slate-200 dark:bg-slate-800 dark:text-slate-300'}
                  aria-pressed={active}
                >
                  {t}
                </Link>
              );
            })}
          </div>
        ) : null}
      </Card>
      <Card>
        {result.hosts.length === 0 ? (
          <EmptyState title={result.total === 0 && !query.q && !query.tag.length && !query.status ? 'No hosts yet' : 'No hosts match'}>
            {can(caller, 'hosts.write') && result.total === 0 ? <Link href="/hosts/new" className="text-brand-600 hover:underline">Add the first host</Link> : null}
          </EmptyState>
        ) : (
          <HostTable
            hosts={result.hosts}
            canWrite={can(caller, 'hosts.write')}
            sort={{ by: query.sort === 'agentVersion' || query.sort === 'storeFree' ? 'name' : query.sort, dir: query.dir }}
            sortHref={{
              name: href({ sort: 'name', dir: query.sort === 'name' && query.dir === 'asc' ? 'desc' : 'asc', page: 1 }),
              lastSeen: href({ sort: 'lastSeen', dir: query.sort === 'lastSeen' && query.dir === 'desc' ? 'asc' : 'desc', page: 1 }),
              createdAt: href({ sort: 'createdAt', dir: query.sort === 'createdAt' && query.dir === 'desc' ? 'asc' : 'desc', page: 1 }),
            }}
          />
        )}
        {pages > 1 ? (
          <div className="flex items-center justify-between border-t border-slate-200 px-5 py-3 text-sm dark:border-slate-800">
            <span className="text-slate-500">
              Page {query.page} of {pages}
            </span>
            <div className="flex gap-2">
              {query.page > 1 ? (
                <Link className={buttonClass('secondary', 'sm')} href={href({ page: query.page - 1 })}>
                  Previous
                </Link>
              ) : null}
              {query.page < pages ? (
                <Link className={buttonClass('secondary', 'sm')} href={href({ page: query.page + 1 })}>
                  Next
                </Link>
              ) : null}
            </div>
          </div>
        ) : null}
      </Card>
      {!parsed.success ? <Badge tone="amber">Some filters were invalid and were ignored</Badge> : null}
    </>
  );
}
