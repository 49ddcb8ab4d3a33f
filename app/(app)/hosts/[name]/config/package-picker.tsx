'use client';

import { useEffect, useState } from 'react';
import { Input } from '@/components/ui/form';

type Hit = { attr: string; version: string; description: string };

/** The package list, with search in the fleet's package index to add more. */
export function PackagePicker({ packages, onChange, editable }: { packages: string[]; onChange: (p: string[]) => void; editable: boolean }) {
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<Hit[]>([]);
  const [error, setError] = useState<string>();

  // The query only changes in the handlers below, which also clear the hits when it empties.
  const changeQuery = (next: string) => {
    setQuery(next);
    if (!next.trim()) setHits([]);
  };

  useEffect(() => {
    if (!query.trim()) return;
    const controller = new AbortController();
    const timer = setTimeout(async () => {
      try {
        const res = await fetch(`/api/v1/packages?q=${encodeURIComponent(query)}&limit=8`, { signal: controller.signal });
        const body = (await res.json()) as { packages?: Hit[]; error?: { message: string } };
        if (!res.ok) throw new Error(body.error?.message ?? res.statusText);
        setHits(body.packages ?? []);
        setError(undefined);
      } catch (e) {
        if (!controller.signal.aborted) setError((e as Error).message);
      }
    }, 150);
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [query]);

  const add = (attr: string) => {
    if (!packages.includes(attr)) onChange([...packages, attr].sort());
    changeQuery('');
  };

  return (
    <div className="space-y-3">
      <ul className="flex flex-wrap gap-1.5" aria-label="Packages">
        {packages.length === 0 ? <li className="text-sm text-slate-500">No packages yet.</li> : null}
        {packages.map((p) => (
          <li key={p} className="inline-flex items-center gap-1 rounded-full bg-slate-100 py-0.5 pl-2.5 pr-1 font-mono text-xs dark:bg-slate-800">
            {p}
            {editable ? (
              <button type="button" aria-label={`Remove ${p}`} onClick={() => onChange(packages.filter((x) => x !== p))} className="rounded-full px-1 text-slate-400 hover:bg-slate-200 hover:text-slate-700 dark:hover:bg-slate-700">
                ×
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {editable ? (
        <div className="relative">
          <Input aria-label="Search packages" placeholder="Search packages to add" value={query} onChange={(e) => changeQuery(e.target.value)} />
          {error ? <p className="mt-1 text-xs text-red-600">{error}</p> : null}
          {hits.length ? (
            <ul className="absolute z-10 mt-1 max-h-72 w-full overflow-auto rounded-md bg-white shadow-lg ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-700" role="listbox">
              {hits.map((h) => (
                <li key={h.attr}>
                  <button type="button" role="option" aria-selected={false} onClick={() => add(h.attr)} className="w-full px-3 py-2 text-left text-sm hover:bg-slate-50 dark:hover:bg-slate-800">
                    <span className="font-mono">{h.attr}</span> <span className="text-xs text-slate-500">{h.version}</span>
                    <span className="block truncate text-xs text-slate-500">{h.description}</span>
                  </button>
                </li>
              ))}
            </ul>
          ) : null}
          {query.trim() && !hits.length && !error ? <p className="mt-1 text-xs text-slate-500">No package in the index matches.</p> : null}
        </div>
      ) : null}
    </div>
  );
}
