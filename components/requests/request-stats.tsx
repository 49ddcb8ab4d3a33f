// Request numbers for managers (requestStats): how many are open, how fast they are
// decided and land, how many are approved.
import Link from 'next/link';
import { Card, CardHeader } from '@/components/ui/card';
import type { Caller } from '@/lib/auth/caller';
import { requestStats } from '@/lib/requests/queries';
import { formatSpan } from './format';

type Stats = Awaited<ReturnType<typeof requestStats>>;

function Figure({ label, value, hint, testId }: { label: string; value: string; hint?: string; testId: string }) {
  return (
    <div className="px-5 py-4">
      <dt className="text-sm text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="mt-1 text-2xl font-semibold tabular-nums" data-testid={testId}>
        {value}
      </dd>
      {hint ? <dd className="mt-0.5 text-xs text-slate-500 dark:text-slate-400">{hint}</dd> : null}
    </div>
  );
}

export function RequestStatsCard({ stats, title = 'Requests', link }: { stats: Stats; title?: string; link?: boolean }) {
  const rate = stats.approvalRate === null ? '—' : `${Math.round(stats.approvalRate * 100)} %`;
  return (
    <Card>
      <CardHeader
        title={title}
        description="Self-service requests from employees, all time."
        actions={
          link ? (
            <Link href="/requests" className="text-sm text-brand-600 hover:underline dark:text-blue-400">
              Open the requests
            </Link>
          ) : undefined
        }
      />
      <dl className="grid grid-cols-2 divide-slate-100 md:grid-cols-4 md:divide-x dark:divide-slate-800" data-testid="request-stats">
        <Figure label="Open" value={String(stats.open)} hint={`${stats.byStatus.submitted ?? 0} waiting for review`} testId="stat-open" />
        <Figure label="Median time to decision" value={formatSpan(stats.medianSecondsToDecision)} hint={`${stats.decided} decided`} testId="stat-time-to-decision" />
        <Figure label="Approval rate" value={rate} hint={`${stats.approved} approved, ${stats.denied} denied`} testId="stat-approval-rate" />
        <Figure label="Median time to live" value={formatSpan(stats.medianSecondsToLive)} hint={`${stats.byStatus.live ?? 0} live`} testId="stat-time-to-live" />
      </dl>
    </Card>
  );
}

/** The overview's requests card, loading its own numbers so the overview page stays as it is. */
export async function OverviewRequestsCard({ caller }: { caller: Caller }) {
  return <RequestStatsCard stats={await requestStats(caller)} link />;
}
