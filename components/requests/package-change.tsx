// "The exact change": the host's package list before and after, as a diff list.
export function PackageChange({ before, after }: { before: string[]; after: string[] }) {
  const added = after.filter((p) => !before.includes(p));
  const removed = before.filter((p) => !after.includes(p));
  const kept = after.filter((p) => before.includes(p));
  return (
    <div className="space-y-2 text-sm" data-testid="package-change">
      <p className="text-slate-600 dark:text-slate-300">
        Packages Flotilla installs on this machine: {before.length} → {after.length}
      </p>
      <ul className="space-y-0.5 rounded-md bg-slate-50 px-3 py-2 font-mono text-xs ring-1 ring-slate-200 dark:bg-slate-950/50 dark:ring-slate-800">
        {added.map((p) => (
          <li key={`+${p}`} className="text-emerald-700 dark:text-emerald-400">
            + {p}
          </li>
        ))}
        {removed.map((p) => (
          <li key={`-${p}`} className="text-red-700 dark:text-red-400">
            − {p}
          </li>
        ))}
        {!added.length && !removed.length ? <li className="text-slate-500">No change to the package list.</li> : null}
      </ul>
      {kept.length ? (
        <details className="text-xs text-slate-500 dark:text-slate-400">
          <summary className="cursor-pointer select-none">{kept.length} unchanged</summary>
          <p className="mt-1 font-mono leading-relaxed">{kept.join(' ')}</p>
        </details>
      ) : null}
    </div>
  );
}
