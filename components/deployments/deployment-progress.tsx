// How far a deployment is: one bar of finished over total hosts, split by outcome, hosts in
// flight filling the part their phase reached (lib/deployments/progress-bar.ts), with a
// count for every phase present.
import clsx from 'clsx';
import type { TargetPhase } from '@/lib/db/enums';
import { isFinalPhase } from '@/lib/db/statuses';
import { progressSegments, type ProgressSegment } from '@/lib/deployments/progress-bar';
import type { TDeploymentView } from '@/lib/deployments/schemas';
import { statusLabel } from './status-label';

// Every phase, in the order the counts are listed: finished ones first, then the furthest along.
const PHASE_ORDER: readonly string[] = ['succeeded', 'failed', 'rolled-back', 'skipped', 'cancelled', 'confirming', 'activating', 'downloading', 'sent', 'needs-decision', 'pending'] satisfies readonly TargetPhase[];

const SEGMENT_STYLE: Record<ProgressSegment['key'], { label: string; className: string }> = {
  succeeded: { label: 'succeeded', className: 'bg-emerald-500' },
  failed: { label: `failed or ${statusLabel('rolled-back')}`, className: 'bg-red-500' },
  'not-started': { label: `${statusLabel('skipped')} or ${statusLabel('cancelled')}`, className: 'bg-slate-400 dark:bg-slate-500' },
  'in-flight': { label: 'in flight', className: 'bg-brand-500 animate-pulse' },
};

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
  const parts = progressSegments(view.counts, total);
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
              <span className="tabular-nums font-medium text-slate-800 dark:text-slate-200">{view.counts[p]}</span> {statusLabel(p)}
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
        {parts.map((s) =>
          s.hosts ? (
            <div key={s.key} data-segment={s.key} title={`${s.hosts} ${SEGMENT_STYLE[s.key].label}`} className={clsx('h-full transition-[width] duration-500', SEGMENT_STYLE[s.key].className)} style={{ width: `${s.percent}%` }} />
          ) : null,
        )}
      </div>
    </div>
  );
}
