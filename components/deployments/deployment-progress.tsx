// How far a deployment is: one bar of finished over total hosts, split by outcome,
// with a count for every phase present.
import clsx from 'clsx';
import type { TargetPhase } from '@/lib/db/enums';
import { FAILED_TARGET_PHASES, IN_FLIGHT_TARGET_PHASES, isFinalPhase, NOT_STARTED_TARGET_PHASES } from '@/lib/db/statuses';
import type { TDeploymentView } from '@/lib/deployments/schemas';

// Every phase, in the order the counts are listed: finished ones first, then the furthest along.
const PHASE_ORDER: readonly string[] = ['succeeded', 'failed', 'rolled-back', 'skipped', 'cancelled', 'confirming', 'activating', 'downloading', 'sent', 'needs-decision', 'pending'] satisfies readonly TargetPhase[];

type Segment = { key: string; label: string; count: number; className: string };

function segments(counts: Record<string, number>): Segment[] {
  const sum = (phases: readonly string[]) => phases.reduce((n, p) => n + (counts[p] ?? 0), 0);
  return [
    { key: 'succeeded', label: 'succeeded', count: sum(['succeeded']), className: 'bg-emerald-500' },
    { key: 'failed', label: 'failed or rolled back', count: sum(FAILED_TARGET_PHASES), className: 'bg-red-500' },
    { key: 'not-started', label: 'skipped or cancelled', count: sum(NOT_STARTED_TARGET_PHASES), className: 'bg-slate-400 dark:bg-slate-500' },
    { key: 'in-flight', label: 'in flight', count: sum(IN_FLIGHT_TARGET_PHASES), className: 'bg-brand-500 animate-pulse' },
  ];
}

const DOT: Record<string, string> = {
  succeeded: 'bg-emerald-500',
  failed: 'bg-red-500',
  'rolled-back': 'bg-red-500',
  skipped: 'bg-slate-400',
  cancelled: 'bg-slate-400',
  pending: 'bg-slate-200 ring-1 ring-inset ring-slate-300 dark:bg-slate-700 dark:ring-slate-600',
};

export function DeploymentProgress({ view }: { view: TDeploymentView }) {
  const total = view.targets.length;
  const finished = view.targets.filter((t) => isFinalPhase(t.phase)).length;
  const parts = segments(view.counts);
  const phases = Object.keys(view.counts).sort((a, b) => PHASE_ORDER.indexOf(a) - PHASE_ORDER.indexOf(b));
  return (
    <div data-testid="deployment-progress">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <p className="text-sm font-medium">
          <span className="tabular-nums">{finished}</span> of <span className="tabular-nums">{total}</span> {total === 1 ? 'host' : 'hosts'} finished
        </p>
        <ul className="flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-600 dark:text-slate-400">
          {phases.map((p) => (
            <li key={p} className="flex items-center gap-1.5" data-testid={`count-${p}`}>
              <span className={clsx('h-2 w-2 rounded-full', DOT[p] ?? 'bg-brand-500')} aria-hidden />
              <span className="tabular-nums font-medium text-slate-800 dark:text-slate-200">{view.counts[p]}</span> {p}
            </li>
          ))}
        </ul>
      </div>
      <div
        className="mt-2 flex h-2.5 overflow-hidden rounded-full bg-slate-100 dark:bg-slate-800"
        role="progressbar"
        aria-label="Hosts finished"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={finished}
      >
        {parts.map((s) => (s.count ? <div key={s.key} title={`${s.count} ${s.label}`} className={clsx('h-full transition-[width] duration-500', s.className)} style={{ width: `${(s.count / Math.max(total, 1)) * 100}%` }} /> : null))}
      </div>
    </div>
  );
}
