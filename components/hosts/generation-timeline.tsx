import Link from 'next/link';
import { describeRequest } from '@/components/requests/format';
import { formatTime, shortSystem } from '@/components/deployments/format';
import { Badge, EmptyState } from '@/components/ui/card';
import type { TGeneration, TPackageChange } from '@/lib/hosts/timeline';

/** Shown at once; the rest of a long change list folds away. */
const SHOWN = 12;

function ChangeLine({ change }: { change: TPackageChange }) {
  if (change.before === null) return <li className="text-emerald-700 dark:text-emerald-400">+ {change.pname} {change.after}</li>;
  if (change.after === null) return <li className="text-red-700 dark:text-red-400">− {change.pname} {change.before}</li>;
  return (
    <li className="text-amber-700 dark:text-amber-400">
      ~ {change.pname} {change.before} → {change.after}
    </li>
  );
}

function Changes({ changes }: { changes: NonNullable<TGeneration['changes']> }) {
  const all = [...changes.added, ...changes.removed, ...changes.changed];
  if (all.length === 0) return <p className="text-xs text-slate-500 dark:text-slate-400">No package changes (configuration only).</p>;
  const summary = [
    changes.added.length ? `${changes.added.length} added` : null,
    changes.removed.length ? `${changes.removed.length} removed` : null,
    changes.changed.length ? `${changes.changed.length} changed` : null,
  ].filter(Boolean);
  return (
    <div className="space-y-1">
      <p className="text-xs text-slate-500 dark:text-slate-400">{summary.join(', ')}</p>
      <ul className="space-y-0.5 font-mono text-xs" data-testid="generation-changes">
        {all.slice(0, SHOWN).map((c) => (
          <ChangeLine key={c.pname} change={c} />
        ))}
      </ul>
      {all.length > SHOWN ? (
        <details>
          <summary className="cursor-pointer text-xs text-slate-500">{all.length - SHOWN} more</summary>
          <ul className="mt-0.5 space-y-0.5 font-mono text-xs">
            {all.slice(SHOWN).map((c) => (
              <ChangeLine key={c.pname} change={c} />
            ))}
          </ul>
        </details>
      ) : null}
    </div>
  );
}

/** The host's generations, newest first, each with where it came from and what changed. */
export function GenerationTimeline({ generations, links }: { generations: TGeneration[]; links: boolean }) {
  if (generations.length === 0) return <EmptyState title="No generations yet">Each system Flotilla deploys to this host appears here, with what changed.</EmptyState>;
  return (
    <ol className="px-5 py-4" data-testid="generations">
      {generations.map((g, i) => {
        const system = shortSystem(g.storePath);
        const oldest = i === generations.length - 1;
        return (
          <li key={g.targetId} className="relative flex gap-4 pb-5 last:pb-0" data-testid="generation" data-store-path={g.storePath}>
            {oldest ? null : <span aria-hidden className="absolute left-[5px] top-4 h-full w-px bg-slate-200 dark:bg-slate-800" />}
            <span aria-hidden className={`relative mt-1.5 h-[11px] w-[11px] shrink-0 rounded-full ring-2 ${g.current ? 'bg-emerald-500 ring-emerald-200 dark:ring-emerald-900' : 'bg-slate-300 ring-white dark:bg-slate-600 dark:ring-slate-900'}`} />
            <div className="min-w-0 flex-1 space-y-1.5">
              <div className="flex flex-wrap items-center gap-x-3 gap-y-1 text-sm">
                <span className="font-medium" title={g.storePath}>
                  {g.buildId && links ? (
                    <Link href={`/builds/${g.buildId}`} className="hover:underline">
                      {system.name}
                    </Link>
                  ) : (
                    system.name
                  )}{' '}
                  <code className="text-xs text-slate-500">{system.hash}</code>
                </span>
                {g.current ? <Badge tone="green">running now</Badge> : null}
                <span className="text-xs text-slate-500 dark:text-slate-400">{formatTime(g.at)}</span>
              </div>
              <p className="text-xs text-slate-500 dark:text-slate-400">
                {links ? (
                  <Link href={`/deployments/${g.deployment.id}`} className="text-brand-600 hover:underline">
                    {g.deployment.source === 'rollback' ? 'Rollback' : 'Deployment'} {g.deployment.id.slice(0, 8)}
                  </Link>
                ) : (
                  <span>{g.deployment.source === 'rollback' ? 'Rollback' : 'Deployment'}</span>
                )}
                {g.deployment.by ? ` by ${g.deployment.by}` : ''}
                {g.request ? (
                  <>
                    {' · for the request '}
                    <Link href={`/requests/${g.request.id}`} className="text-brand-600 hover:underline">
                      {describeRequest(g.request)}
                    </Link>
                  </>
                ) : null}
              </p>
              {g.changes ? (
                <Changes changes={g.changes} />
              ) : (
                <p className="text-xs text-slate-500 dark:text-slate-400">{oldest ? 'The oldest generation shown: nothing before it to compare with.' : 'No recorded closure to compare with.'}</p>
              )}
            </div>
          </li>
        );
      })}
    </ol>
  );
}
