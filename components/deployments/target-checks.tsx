// A target's pre-switch checks on the deployment page: open while it waits for a decision
// (with the way to the decisions inbox), folded away once the checks are behind it.
import Link from 'next/link';
import { buttonClass } from '@/components/ui/button';
import type { TTargetView } from '@/lib/deployments/schemas';
import { CheckItems, countLevels, resolutionLabel } from './check-items';
import { formatTime } from './format';

/** "Decided: Run the migration now by ops@example.com, 2025-01-01 10:00:00 UTC". */
function DecisionLine({ target }: { target: TTargetView }) {
  if (!target.decision) return null;
  const chosen = Object.entries(target.decision).map(([itemId, resolution]) => {
    const item = target.checks.find((i) => i.id === itemId);
    return item ? resolutionLabel(item, resolution) : resolution;
  });
  return (
    <span data-testid={`decision-${target.host}`}>
      Decided: <span className="font-medium text-slate-700 dark:text-slate-200">{chosen.join('; ')}</span>
      {/* Nobody's name on a decision: the deployment's decision policy made it (lib/deployments/decision-policy.ts). */}
      {target.decidedBy ? ` by ${target.decidedBy}` : ' by the deployment’s decision policy'}
      {target.decidedAt ? `, ${formatTime(target.decidedAt)}` : ''}
    </span>
  );
}

export function TargetChecks({ target, canDecide }: { target: TTargetView; canDecide: boolean }) {
  const waiting = target.phase === 'needs-decision' && !target.decision;
  const summary = (
    <span className="flex flex-wrap items-center gap-x-3 gap-y-1 text-xs text-slate-500 dark:text-slate-400">
      <span className="font-medium text-slate-700 dark:text-slate-200">Pre-switch checks</span>
      <span>{countLevels(target.checks)}</span>
      <DecisionLine target={target} />
      {target.phase === 'needs-decision' && target.decision ? <span className="text-amber-700 dark:text-amber-300">waiting for the host to carry it out</span> : null}
    </span>
  );
  if (waiting) {
    return (
      <div className="space-y-3 rounded-md bg-amber-50/60 p-3 ring-1 ring-inset ring-amber-200 dark:bg-amber-950/20 dark:ring-amber-900" data-testid={`checks-${target.host}`}>
        <div className="flex flex-wrap items-center justify-between gap-3">
          {summary}
          <Link href="/decisions" className={buttonClass(canDecide ? 'primary' : 'secondary', 'sm')}>
            {canDecide ? 'Decide' : 'Open in Decisions'}
          </Link>
        </div>
        <CheckItems items={target.checks} />
      </div>
    );
  }
  return (
    <details className="group" data-testid={`checks-${target.host}`}>
      <summary className="cursor-pointer list-none [&::-webkit-details-marker]:hidden">
        <span className="flex items-center gap-2">
          <span aria-hidden className="text-slate-400 transition-transform group-open:rotate-90">
            ▸
          </span>
          {summary}
        </span>
      </summary>
      <div className="mt-3 pl-5">
        <CheckItems items={target.checks} decision={target.decision} />
      </div>
    </details>
  );
}
