import clsx from 'clsx';
import type { Metadata } from 'next';
import Link from 'next/link';
import { formatDuration, formatTime } from '@/components/deployments/format';
import { PhaseBadge } from '@/components/deployments/phase-badge';
import { capitalized, statusLabel } from '@/components/deployments/status-label';
import { Forbidden } from '@/components/shell/forbidden';
import { buttonClass } from '@/components/ui/button';
import { Card, EmptyState, PageHeader } from '@/components/ui/card';
import { Table, TBody, Td, Th } from '@/components/ui/table';
import { pageCaller } from '@/lib/auth/page';
import { DEPLOYMENT_FILTERS, listDeployments, type DeploymentFilter, type TDeploymentSummary } from '@/lib/deployments/queries';

export const metadata: Metadata = { title: 'Deployments' };

const PAGE_SIZE = 25;
// Statuses read as their badges do (status-label.ts); "active" groups the unfinished ones.
const FILTER_LABELS = Object.fromEntries(
  (['all', ...DEPLOYMENT_FILTERS] as const).map((f) => [f, f === 'all' ? 'All' : f === 'active' ? 'Active' : capitalized(statusLabel(f))]),
) as Record<DeploymentFilter | 'all', string>;
const SOURCES: Record<string, string> = { ui: 'web UI', api: 'API', request: 'request', rollback: 'rollback' };

function hrefFor(status: DeploymentFilter | undefined, page: number) {
  const params = new URLSearchParams();
  if (status) params.set('status', status);
  if (page > 1) params.set('page', String(page));
  const s = params.toString();
  return s ? `/deployments?${s}` : '/deployments';
}

function Outcome({ d }: { d: TDeploymentSummary }) {
  return (
    <span className="flex items-center gap-2 tabular-nums">
      <span>
        {d.targets} {d.targets === 1 ? 'host' : 'hosts'}
      </span>
      {d.succeeded ? <span className="text-emerald-700 dark:text-emerald-400">{d.succeeded} ✓</span> : null}
      {d.failed ? <span className="text-red-700 dark:text-red-400">{d.failed} ✗</span> : null}
    </span>
  );
}

function Duration({ d, now }: { d: TDeploymentSummary; now: number }) {
  const from = new Date(d.createdAt).getTime();
  if (d.finishedAt) return <>{formatDuration(new Date(d.finishedAt).getTime() - from)}</>;
  return <span className="text-brand-600 dark:text-blue-300">running {formatDuration(now - from)}</span>;
}

function StatusFilter({ current }: { current: DeploymentFilter | undefined }) {
  return (
    <nav className="flex flex-wrap gap-1 border-b border-slate-200 px-3 py-2 dark:border-slate-800" aria-label="Filter by status">
      {(['all', ...DEPLOYMENT_FILTERS] as const).map((f) => {
        const active = (f === 'all' ? undefined : f) === current;
        return (
          <Link
            key={f}
            href={hrefFor(f === 'all' ? undefined : f, 1)}
            aria-current={active ? 'page' : undefined}
            className={clsx(
              'rounded-md px-2.5 py-1 text-sm font-medium',
              active ? 'bg-brand-50 text-brand-700 dark:bg-slate-800 dark:text-white' : 'text-slate-500 hover:bg-slate-100 hover:text-slate-800 dark:hover:bg-slate-800/60 dark:hover:text-slate-200',
            )}
          >
            {FILTER_LABELS[f]}
          </Link>
        );
      })}
    </nav>
  );
}

export default async function DeploymentsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { caller, allowed } = await pageCaller('fleet.read');
  if (!allowed) return <Forbidden what="Deployments" />;
  const raw = await searchParams;
  const status = DEPLOYMENT_FILTERS.find((f) => f === raw.status);
  const page = Math.max(1, Math.floor(Number(raw.page)) || 1);
  const { deployments, total } = await listDeployments(caller, { status, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const now = Date.now();
  return (
    <>
      <PageHeader title="Deployments" description="What was sent to which hosts, by whom, and how it went." />
      <Card>
        <StatusFilter current={status} />
        {deployments.length === 0 ? (
          <EmptyState title={status ? `No ${FILTER_LABELS[status].toLowerCase()} deployments` : 'Nothing deployed yet'}>
            {status ? null : 'Select hosts in the host list and press Deploy…, or POST a deploy.json to /api/v1/deployments.'}
          </EmptyState>
        ) : (
          <Table>
            <thead>
              <tr>
                <Th>Deployment</Th>
                <Th>Status</Th>
                <Th>Hosts</Th>
                <Th>Started (UTC)</Th>
                <Th>Duration</Th>
                <Th>Started by</Th>
              </tr>
            </thead>
            <TBody>
              {deployments.map((d) => (
                <tr key={d.id} data-testid={`deployment-${d.id}`} className="hover:bg-slate-50 dark:hover:bg-slate-800/40">
                  <Td>
                    <Link href={`/deployments/${d.id}`} className="font-mono text-xs font-medium text-brand-600 hover:underline dark:text-blue-300">
                      {d.id.slice(0, 8)}
                    </Link>
                    <span className="block text-xs text-slate-500 dark:text-slate-400">
                      {d.rollbackOf ? `rolls back ${d.rollbackOf.slice(0, 8)}` : `from the ${SOURCES[d.source] ?? d.source}`}
                    </span>
                  </Td>
                  <Td>
                    <PhaseBadge phase={d.status} />
                  </Td>
                  <Td>
                    <Outcome d={d} />
                  </Td>
                  <Td className="tabular-nums text-slate-500 dark:text-slate-400">{formatTime(d.createdAt).slice(0, 16)}</Td>
                  <Td className="tabular-nums text-slate-500 dark:text-slate-400">
                    <Duration d={d} now={now} />
                  </Td>
                  <Td className="text-slate-500 dark:text-slate-400">
                    <span className="block max-w-[16rem] truncate" title={d.createdBy ?? undefined}>
                      {d.createdBy ?? '—'}
                    </span>
                  </Td>
                </tr>
              ))}
            </TBody>
          </Table>
        )}
        {total > 0 ? (
          <div className="flex items-center justify-between border-t border-slate-200 px-5 py-3 text-sm dark:border-slate-800">
            <span className="text-slate-500 dark:text-slate-400">
              {total} {total === 1 ? 'deployment' : 'deployments'}
              {pages > 1 ? ` · page ${page} of ${pages}` : ''}
            </span>
            {pages > 1 ? (
              <div className="flex gap-2">
                {page > 1 ? (
                  <Link className={buttonClass('secondary', 'sm')} href={hrefFor(status, page - 1)}>
                    Previous
                  </Link>
                ) : null}
                {page < pages ? (
                  <Link className={buttonClass('secondary', 'sm')} href={hrefFor(status, page + 1)}>
                    Next
                  </Link>
                ) : null}
              </div>
            ) : null}
          </div>
        ) : null}
      </Card>
    </>
  );
}
