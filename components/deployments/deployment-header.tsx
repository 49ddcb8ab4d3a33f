// The top of a deployment page: what it is, where it stands and why, who started it
// and when, and the strategy it runs under.
import clsx from 'clsx';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { isFinalDeployment } from '@/lib/db/statuses';
import type { TDeploymentView } from '@/lib/deployments/schemas';
import { formatDuration, formatTime } from './format';
import { PhaseBadge } from './phase-badge';

const SOURCES: Record<string, string> = { ui: 'the web UI', api: 'the API', request: 'a request', rollback: 'a rollback' };

/** What the status means right now, for statuses whose reason column is empty. */
function explanation(view: TDeploymentView, now: number | null): string | null {
  const watchLeft = view.watchUntil && now !== null ? new Date(view.watchUntil).getTime() - now : null;
  switch (view.status) {
    case 'pending':
      return 'Waiting for builds to finish; nothing is sent before every host has its system.';
    case 'canary':
      if (watchLeft !== null && watchLeft > 0) return `Canaries succeeded; watching them for another ${formatDuration(watchLeft)} before the waves start.`;
      return `Canaries go first; the waves start once they succeed and stay healthy for ${view.strategy.watchSeconds} s.`;
    case 'rolling':
      return `Rolling out wave by wave, at most ${String(view.strategy.maxInFlight)} hosts at a time.`;
    case 'paused':
      return 'Hosts already in flight finish; nothing new starts until it is resumed.';
    default:
      return null;
  }
}

function Banner({ tone, children }: { tone: 'red' | 'amber' | 'slate' | 'blue'; children: ReactNode }) {
  return (
    <div
      className={clsx(
        'rounded-md px-4 py-2.5 text-sm ring-1 ring-inset',
        tone === 'red' && 'bg-red-50 text-red-800 ring-red-200 dark:bg-red-950/40 dark:text-red-200 dark:ring-red-900',
        tone === 'amber' && 'bg-amber-50 text-amber-900 ring-amber-200 dark:bg-amber-950/40 dark:text-amber-200 dark:ring-amber-900',
        tone === 'slate' && 'bg-slate-50 text-slate-700 ring-slate-200 dark:bg-slate-800/50 dark:text-slate-300 dark:ring-slate-700',
        tone === 'blue' && 'bg-brand-50 text-brand-700 ring-brand-100 dark:bg-blue-950/40 dark:text-blue-200 dark:ring-blue-900',
      )}
    >
      {children}
    </div>
  );
}

const reasonTone = (status: string) => (status === 'failed' || status === 'halted' ? 'red' : status === 'succeeded' ? 'slate' : 'amber');

function Fact({ label, children, wide }: { label: string; children: ReactNode; wide?: boolean }) {
  return (
    <div className={wide ? 'sm:col-span-2 lg:col-span-4' : undefined}>
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="mt-1 text-sm">{children}</dd>
    </div>
  );
}

export function DeploymentHeader({ view, strategySummary, now, controls }: { view: TDeploymentView; strategySummary: string; now: number | null; controls: ReactNode }) {
  const hosts = view.targets.length;
  const began = view.startedAt ?? view.createdAt;
  const end = view.finishedAt ? new Date(view.finishedAt).getTime() : isFinalDeployment(view.status) ? null : now;
  const note = explanation(view, now);
  return (
    <div className="mb-6 space-y-4">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <div className="flex flex-wrap items-center gap-3">
            <h1 className="text-2xl font-semibold tracking-tight">Deployment {view.id.slice(0, 8)}</h1>
            <span data-testid="deployment-status" className="text-base">
              <PhaseBadge phase={view.status} />
            </span>
          </div>
          <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">
            {hosts} {hosts === 1 ? 'host' : 'hosts'} · from {SOURCES[view.source] ?? view.source} · by {view.createdBy ?? (view.source === 'rollback' ? 'the rollout' : 'someone since removed')}
          </p>
        </div>
        {controls}
      </div>
      {view.reason ? (
        <Banner tone={reasonTone(view.status)}>
          <span data-testid="deployment-reason">{view.reason}</span>
        </Banner>
      ) : null}
      {note ? <Banner tone="blue">{note}</Banner> : null}
      {view.rollbackOf ? (
        <Banner tone="slate">
          This deployment rolls back{' '}
          <Link href={`/deployments/${view.rollbackOf}`} className="font-medium text-brand-600 hover:underline dark:text-blue-300">
            deployment {view.rollbackOf.slice(0, 8)}
          </Link>
          : it returns each host to the system it ran before.
        </Banner>
      ) : null}
      {view.rolledBackBy ? (
        <Banner tone="amber">
          Rolled back by{' '}
          <Link href={`/deployments/${view.rolledBackBy}`} className="font-medium underline" data-testid="rolled-back-by">
            deployment {view.rolledBackBy.slice(0, 8)}
          </Link>
          .
        </Banner>
      ) : null}
      <dl className="grid gap-x-6 gap-y-4 rounded-lg bg-white p-5 shadow-sm ring-1 ring-slate-200 sm:grid-cols-2 lg:grid-cols-4 dark:bg-slate-900 dark:ring-slate-800">
        <Fact label="Requested">{formatTime(view.createdAt)}</Fact>
        <Fact label="Started">{view.startedAt ? formatTime(view.startedAt) : <span className="text-slate-400">not yet</span>}</Fact>
        <Fact label="Finished">{view.finishedAt ? formatTime(view.finishedAt) : <span className="text-slate-400">{isFinalDeployment(view.status) ? '—' : 'still running'}</span>}</Fact>
        <Fact label="Duration">
          <span className="tabular-nums">{end === null ? '—' : formatDuration(end - new Date(began).getTime())}</span>
        </Fact>
        <Fact label="Strategy" wide>
          <span data-testid="strategy-summary" className="text-slate-700 dark:text-slate-300">
            {strategySummary}
          </span>
        </Fact>
      </dl>
    </div>
  );
}
