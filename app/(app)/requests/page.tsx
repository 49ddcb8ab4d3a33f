import type { Metadata } from 'next';
import Link from 'next/link';
import { z } from 'zod';
import { relativeTime } from '@/components/hosts/status-badge';
import { AutoRefresh } from '@/components/requests/auto-refresh';
import { RequestStatsCard } from '@/components/requests/request-stats';
import { Card, EmptyState, PageHeader } from '@/components/ui/card';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { listRequests, requestStats, seesAllRequests } from '@/lib/requests/queries';
import { REQUEST_STATUSES } from '@/lib/db/enums';
import { isFinalRequest } from '@/lib/db/statuses';
import { ZRequestListQuery } from '@/lib/requests/schemas';
import { RequestFilters } from './request-filters';
import { RequestTable, type RequestRow } from './request-table';

export const metadata: Metadata = { title: 'Requests' };

// A filter typed by hand that does not parse is ignored rather than an error page.
const ZSearch = z.object({
  status: z.enum([...REQUEST_STATUSES, 'open', 'all']).optional().catch(undefined),
  host: ZRequestListQuery.shape.host.catch(undefined),
  package: ZRequestListQuery.shape.package.catch(undefined),
});

export default async function RequestsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { caller } = await pageCaller('authenticated');
  const reviewer = can(caller, 'requests.review');
  const seesAll = seesAllRequests(caller);
  const search = ZSearch.parse(await searchParams);
  // Reviewers land on their queue; everybody else on the whole history.
  const status = search.status ?? (reviewer ? 'submitted' : 'all');
  const [requests, stats] = await Promise.all([
    listRequests(caller, { status, host: search.host, package: search.package, limit: 200 }),
    // The numbers are for managers; reviewers have them on the overview and keep the queue on top here.
    can(caller, 'fleet.read') && !reviewer ? requestStats(caller) : null,
  ]);
  const now = Date.now();
  const rows: RequestRow[] = requests.map((r) => ({
    id: r.id,
    host: r.host,
    kind: r.kind,
    package: r.package,
    text: r.text,
    reason: r.reason,
    status: r.status,
    requester: r.requester,
    age: relativeTime(r.createdAt, now),
  }));
  const open = requests.some((r) => !isFinalRequest(r.status));

  return (
    <>
      <PageHeader
        title={seesAll ? 'Requests' : 'My requests'}
        description={
          reviewer
            ? 'Software and changes employees asked for on their machines. Open one to see its closure diff and decide, or select several to approve them at once.'
            : seesAll
              ? 'Software and changes employees asked for on their machines (read-only).'
              : 'What you asked for, and where it stands. To ask for something, open a machine on My machines.'
        }
        actions={
          !seesAll ? (
            <Link href="/my-machines" className="text-sm font-medium text-brand-600 hover:underline dark:text-blue-400">
              Request software →
            </Link>
          ) : undefined
        }
      />
      {/* A queue gains requests and open ones move: keep the page current without a reload button. */}
      <AutoRefresh active={open || reviewer} />
      {stats ? (
        <div className="mb-6">
          <RequestStatsCard stats={stats} />
        </div>
      ) : null}
      <Card>
        {seesAll ? (
          <RequestFilters
            key={`${status}|${search.host ?? ''}|${search.package ?? ''}`}
            initial={{ status, host: search.host ?? '', package: search.package ?? '' }}
            hosts={[...new Set(rows.map((r) => r.host))].sort()}
          />
        ) : null}
        {/* Rendered with no rows too: a batch approval that empties the queue keeps its outcome on screen. */}
        <RequestTable
          rows={rows}
          reviewer={reviewer}
          showRequester={seesAll}
          empty={
            <EmptyState title={status === 'submitted' ? 'Nothing waiting for review' : 'No requests'}>
              {seesAll ? 'Requests that match these filters appear here.' : 'Requests you file from My machines appear here.'}
            </EmptyState>
          }
        />
      </Card>
    </>
  );
}
