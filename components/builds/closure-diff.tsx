import type { TClosureDiff } from '@/lib/db/json-types';
import { formatBytes } from './build-status';

export function ClosureDiffView({ diff, title }: { diff: TClosureDiff; title: string }) {
  const empty = !diff.added.length && !diff.removed.length && !diff.changed.length;
  return (
    <div className="space-y-2 text-sm" data-testid="closure-diff">
      <p className="font-medium">
        {title}: {formatBytes(diff.sizeBefore)} → {formatBytes(diff.sizeAfter)} ({diff.sizeDelta >= 0 ? '+' : ''}
        {formatBytes(diff.sizeDelta)})
      </p>
      {empty ? <p className="text-slate-500">No package changes.</p> : null}
      <ul className="space-y-0.5 font-mono text-xs">
        {diff.added.map((p) => (
          <li key={`a-${p.pname}`} className="text-emerald-700 dark:text-emerald-400">
            + {p.pname} {p.version}
          </li>
        ))}
        {diff.removed.map((p) => (
          <li key={`r-${p.pname}`} className="text-red-700 dark:text-red-400">
            − {p.pname} {p.version}
          </li>
        ))}
        {diff.changed.map((p) => (
          <li key={`c-${p.pname}`} className="text-amber-700 dark:text-amber-400">
            ~ {p.pname} {p.from} → {p.to}
          </li>
        ))}
      </ul>
    </div>
  );
}
