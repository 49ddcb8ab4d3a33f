import clsx from 'clsx';
import type { RequestStatus } from '@/lib/db/enums';

/** The way to live, in order (the statuses off it end a request early). */
const PATH = ['submitted', 'approved', 'building', 'deploying', 'live'] as const satisfies readonly RequestStatus[];
const LABELS: Record<(typeof PATH)[number], string> = { submitted: 'Submitted', approved: 'Approved', building: 'Building', deploying: 'Deploying', live: 'Live' };

type Step = { key: string; label: string; state: 'done' | 'current' | 'todo' | 'stopped' };

/**
 * Where the request is on its way to live. A step is done once reached; the current step
 * is the one being worked on (while submitted that is the review). A request that stopped
 * (denied, withdrawn, failed) ends where it stopped.
 */
function stepsFor(status: RequestStatus, detail: string | null): Step[] {
  const stoppedAt = status === 'denied' || status === 'withdrawn' ? 1 : status === 'failed' ? 2 : -1;
  if (stoppedAt >= 0) {
    const label = status === 'denied' ? 'Denied' : status === 'withdrawn' ? 'Withdrawn' : 'Failed';
    return [...PATH.slice(0, stoppedAt).map((key) => ({ key, label: LABELS[key], state: 'done' as const })), { key: status, label, state: 'stopped' }];
  }
  // Submitted means "in review": the approval is the step being worked on.
  const reached = PATH.indexOf(status as (typeof PATH)[number]);
  const current = status === 'live' ? -1 : status === 'submitted' || status === 'approved' ? reached + 1 : reached;
  return PATH.map((key, i) => {
    const state = current === -1 || i < current ? 'done' : i === current ? 'current' : 'todo';
    let label = LABELS[key];
    if (key === 'approved' && state !== 'done') label = 'In review';
    if (key === 'deploying' && state === 'current' && detail) label = `Deploying · ${detail}`;
    return { key, label, state };
  });
}

function Dot({ state, index }: { state: Step['state']; index: number }) {
  return (
    <span
      className={clsx(
        'flex h-7 w-7 shrink-0 items-center justify-center rounded-full text-xs font-semibold ring-2',
        state === 'done' && 'bg-emerald-600 text-white ring-emerald-600 dark:bg-emerald-500 dark:ring-emerald-500',
        state === 'current' && 'bg-white text-brand-700 ring-brand-600 dark:bg-slate-900 dark:text-blue-300 dark:ring-blue-400',
        state === 'todo' && 'bg-white text-slate-400 ring-slate-200 dark:bg-slate-900 dark:ring-slate-700',
        state === 'stopped' && 'bg-red-600 text-white ring-red-600 dark:bg-red-500 dark:ring-red-500',
      )}
    >
      {state === 'done' ? '✓' : state === 'stopped' ? '✕' : index + 1}
    </span>
  );
}

/** submitted → approved → building → deploying → live, with the deployment phase while deploying ("activating…"). */
export function StatusStepper({ status, phase }: { status: RequestStatus; phase: string | null }) {
  const steps = stepsFor(status, phase);
  return (
    <ol className="flex flex-col gap-3 sm:flex-row sm:items-center sm:gap-0" aria-label="Progress" data-testid="request-stepper" data-status={status}>
      {steps.map((step, i) => (
        <li key={step.key} className="flex items-center sm:flex-1 sm:last:flex-none" aria-current={step.state === 'current' ? 'step' : undefined}>
          <span className="flex items-center gap-2">
            <Dot state={step.state} index={i} />
            <span
              className={clsx(
                'whitespace-nowrap text-sm',
                step.state === 'current' && 'font-semibold text-brand-700 dark:text-blue-300',
                step.state === 'done' && 'font-medium',
                step.state === 'todo' && 'text-slate-400 dark:text-slate-500',
                step.state === 'stopped' && 'font-semibold text-red-700 dark:text-red-400',
              )}
            >
              {step.label}
              {step.state === 'current' ? <span className="inline-block animate-pulse">…</span> : null}
            </span>
          </span>
          {i < steps.length - 1 ? <span className={clsx('mx-3 hidden h-0.5 flex-1 rounded sm:block', step.state === 'done' ? 'bg-emerald-500' : 'bg-slate-200 dark:bg-slate-700')} /> : null}
        </li>
      ))}
    </ol>
  );
}
