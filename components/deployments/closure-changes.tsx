// What a deployment changes, from the builds' stored closure diffs: one line per
// distinct system (packages added, removed, at another version; size change), with the
// packages behind a disclosure so a deployment of many hosts stays short.
import Link from 'next/link';
import { ClosureDiffView } from '@/components/builds/closure-diff';
import { formatBytes } from '@/components/builds/build-status';
import { Card, CardHeader } from '@/components/ui/card';
import type { TClosureDiff } from '@/lib/db/json-types';
import { shortSystem } from './format';

export type SystemChange = {
  storePath: string;
  buildId: string;
  hosts: string[];
  diff: TClosureDiff | null;
  /** What the diff compares against: what the host ran when it was built, or its previous build. */
  against: 'running' | 'previous' | null;
};

function Counts({ diff }: { diff: TClosureDiff }) {
  if (!diff.added.length && !diff.removed.length && !diff.changed.length) return <span className="text-slate-500">no package changes</span>;
  return (
    <span className="space-x-3">
      {diff.added.length ? <span className="text-emerald-700 dark:text-emerald-400">+{diff.added.length} added</span> : null}
      {diff.removed.length ? <span className="text-red-700 dark:text-red-400">−{diff.removed.length} removed</span> : null}
      {diff.changed.length ? <span className="text-amber-700 dark:text-amber-400">{diff.changed.length} changed</span> : null}
    </span>
  );
}

function hostList(hosts: string[]) {
  return hosts.length <= 3 ? hosts.join(', ') : `${hosts.slice(0, 3).join(', ')} and ${hosts.length - 3} more`;
}

export function ClosureChanges({ systems }: { systems: SystemChange[] }) {
  if (systems.length === 0) return null;
  return (
    <Card className="mb-6">
      <CardHeader title="What changes" description="From each build's closure diff, against what its host ran when it was built." />
      <ul className="divide-y divide-slate-100 dark:divide-slate-800/70" data-testid="closure-changes">
        {systems.map((s) => {
          const { hash, name } = shortSystem(s.storePath);
          return (
            <li key={s.storePath} className="px-5 py-3 text-sm">
              <details className="group">
                <summary className="flex cursor-pointer list-none flex-wrap items-center gap-x-4 gap-y-1 [&::-webkit-details-marker]:hidden">
                  <span aria-hidden className="text-slate-400 transition-transform group-open:rotate-90">
                    ▸
                  </span>
                  <span className="font-mono text-xs" title={s.storePath}>
                    <span className="text-slate-400">{hash}</span> {name}
                  </span>
                  <span className="text-slate-500 dark:text-slate-400">{hostList(s.hosts)}</span>
                  <span className="ml-auto flex flex-wrap items-center gap-x-3 text-xs">
                    {s.diff ? (
                      <>
                        <Counts diff={s.diff} />
                        <span className="tabular-nums text-slate-600 dark:text-slate-300">
                          {s.diff.sizeDelta >= 0 ? '+' : ''}
                          {formatBytes(s.diff.sizeDelta)}
                        </span>
                      </>
                    ) : (
                      <span className="text-slate-500">no earlier system to compare with</span>
                    )}
                  </span>
                </summary>
                <div className="mt-3 pl-6">
                  {s.diff ? <ClosureDiffView diff={s.diff} title={s.against === 'running' ? 'Against what the host ran' : 'Against the previous build'} /> : null}
                  <Link href={`/builds/${s.buildId}`} className="mt-2 inline-block text-xs text-brand-600 hover:underline dark:text-blue-300">
                    Open the build
                  </Link>
                </div>
              </details>
            </li>
          );
        })}
      </ul>
    </Card>
  );
}
