import type { Metadata } from 'next';
import Link from 'next/link';
import { Forbidden } from '@/components/shell/forbidden';
import { buttonClass } from '@/components/ui/button';
import { Badge, Card, EmptyState, PageHeader } from '@/components/ui/card';
import { Input, Select } from '@/components/ui/form';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { agentVersions } from '@/lib/health/overview';
import { listHosts, listTags } from '@/lib/hosts/inventory';
import { listSavedFilters } from '@/lib/hosts/saved-filters';
import { LOW_DISK_BYTES } from '@/lib/hosts/status-sql';
import { HOST_SORT_KEYS, HOST_STATUS_FILTERS, HOST_STATUS_LABELS, ZHostListQuery, type THostSortKey } from '@/lib/hosts/schemas';
import { HostTable } from './host-table';
import { hostCsvHref, hostListHref } from './list-href';
import { SavedFilters } from './saved-filters';

export const metadata: Metadata = { title: 'Hosts' };

/** Columns whose first click sorts the largest or latest first. */
const DESC_FIRST: THostSortKey[] = ['lastSeen', 'createdAt'];

export default async function HostsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { caller, allowed } = await pageCaller('fleet.read');
  if (!allowed) return <Forbidden what="The host inventory" />;
  const raw = await searchParams;
  const parsed = ZHostListQuery.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== '' && v !== undefined)));
  const query = parsed.success ? parsed.data : ZHostListQuery.parse({});
  const [result, tags, agents, saved] = await Promise.all([listHosts(caller, query), listTags(caller), agentVersions(caller), listSavedFilters(caller)]);
  const pages = Math.max(1, Math.ceil(result.total / query.pageSize));
  const filters = { q: query.q, tag: query.tag, status: query.status, agent: query.agent, sort: query.sort, dir: query.dir };
  const filtered = Boolean(query.q || query.tag.length || query.status || query.agent);
  const href = (change: Parameters<typeof hostListHref>[0]) => hostListHref({ ...filters, page: query.page, ...change });
  const canWrite = can(caller, 'hosts.write');

  return (
    <>
      <PageHeader
        title="Hosts"
        description={`${result.total} ${result.total === 1 ? 'host' : 'hosts'}${filtered ? ' match' : ' in the fleet'}`}
        actions={
          <div className="flex gap-2">
            <a href={hostCsvHref(filters)} download className={buttonClass('secondary')}>
              Export CSV
            </a>
            {canWrite ? (
              <Link href="/hosts/new" className={buttonClass('primary')}>
                New host
              </Link>
            ) : null}
          </div>
        }
      />
      <Card className="mb-4 p-4">
        <form method="get" className="flex flex-wrap items-end gap-3">
          <label className="min-w-48 flex-1 text-sm">
            <span className="mb-1 block text-slate-500">Search by name</span>
            <Input name="q" defaultValue={query.q} placeholder="web-01" />
          </label>
          <label className="text-sm">
            <span className="mb-1 block text-slate-500">Status</span>
            <Select name="status" defaultValue={query.status ?? ''}>
              <option value="">Any status</option>
              {HOST_STATUS_FILTERS.map((status) => (
                <option key={status} value={status}>
                  {HOST_STATUS_LABELS[status]}
                </option>
              ))}
            </Select>
          </label>
          <label className="text-sm">
            <span className="mb-1 block text-slate-500">Agent version</span>
            <Select name="agent" defaultValue={query.agent ?? ''}>
              <option value="">Any version</option>
              {agents.map((a) => (
                <option key={a.version ?? 'none'} value={a.version ?? 'none'}>
                  {a.version ?? 'none reported'} ({a.hosts})
                </option>
              ))}
              {query.agent && !agents.some((a) => (a.version ?? 'none') === query.agent) ? <option value={query.agent}>{query.agent} (0)</option> : null}
            </Select>
          </label>
          {query.tag.map((t) => (
            <input key={t} type="hidden" name="tag" value={t} />
          ))}
          {query.sort !== 'name' ? <input type="hidden" name="sort" value={query.sort} /> : null}
          {query.dir !== 'asc' ? <input type="hidden" name="dir" value={query.dir} /> : null}
          <button type="submit" className={buttonClass('primary')}>
            Apply
          </button>
          {filtered ? (
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
        <SavedFilters
          filters={saved.map((f) => ({ id: f.id, name: f.name, href: hostListHref(f.query), active: hostListHref(f.query) === hostListHref(filters) }))}
          current={filtered || query.sort !== 'name' || query.dir !== 'asc' ? filters : null}
        />
      </Card>
      <Card>
        {result.hosts.length === 0 ? (
          <EmptyState title={result.total === 0 && !filtered ? 'No hosts yet' : 'No hosts match'}>
            {canWrite && result.total === 0 && !filtered ? (
              <Link href="/hosts/new" className="text-brand-600 hover:underline">
                Add the first host
              </Link>
            ) : null}
          </EmptyState>
        ) : (
          <HostTable
            hosts={result.hosts}
            canWrite={canWrite}
            canDeploy={can(caller, 'deployments.write')}
            lowDiskBytes={LOW_DISK_BYTES}
            sort={{ by: query.sort, dir: query.dir }}
            sortHref={Object.fromEntries(
              HOST_SORT_KEYS.map((key) => {
                const first = DESC_FIRST.includes(key) ? 'desc' : 'asc';
                const dir = query.sort === key ? (query.dir === 'asc' ? 'desc' : 'asc') : first;
                return [key, href({ sort: key, dir, page: 1 })];
              }),
            ) as Record<THostSortKey, string>}
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
