'use client';

// Searching the fleet's package index (GET /api/v1/packages) and picking one package:
// the request dialog, "edit & approve" and the policy editor all choose this way.
import clsx from 'clsx';
import { useEffect, useId, useState } from 'react';
import { Input } from '@/components/ui/form';

export type PackageHit = { attr: string; pname: string; version: string; description: string };

function usePackageSearch(query: string, limit: number) {
  const [hits, setHits] = useState<PackageHit[]>([]);
  const [error, setError] = useState<string>();
  const [searching, setSearching] = useState(false);
  // When the query changes: an empty one clears the hits, another starts a search. Adjusted
  // while rendering (React's pattern for state that follows a prop), not in the effect.
  const [asked, setAsked] = useState({ query: '', limit });
  if (asked.query !== query || asked.limit !== limit) {
    setAsked({ query, limit });
    if (query.trim()) setSearching(true);
    else {
      setHits([]);
      setSearching(false);
    }
  }
  useEffect(() => {
    if (!query.trim()) return;
    const controller = new AbortController();
    // Wait for a pause in typing: one search per word, not per letter.
    const timer = setTimeout(async () => {
      try {
        const res = await fetch(`/api/v1/packages?q=${encodeURIComponent(query)}&limit=${limit}`, { signal: controller.signal });
        const body = (await res.json()) as { packages?: PackageHit[]; error?: { message: string } };
        if (!res.ok) throw new Error(body.error?.message ?? res.statusText);
        setHits(body.packages ?? []);
        setError(undefined);
      } catch (e) {
        if (!controller.signal.aborted) setError((e as Error).message);
      } finally {
        if (!controller.signal.aborted) setSearching(false);
      }
    }, 150);
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [query, limit]);
  return { hits, error, searching };
}

type Props = {
  selected: string | null;
  onSelect: (hit: PackageHit) => void;
  /** Packages that cannot be picked, with the reason shown beside them ("installed"). */
  unavailable?: Record<string, string>;
  label?: string;
  placeholder?: string;
  limit?: number;
  autoFocus?: boolean;
  /** Empty the box after a pick: for adding to a list, where the pick leaves the search. */
  clearOnSelect?: boolean;
};

/** A search box with the matching packages listed below it as choices (name, version, description). */
export function PackageSearch({ selected, onSelect, unavailable = {}, label = 'Search packages', placeholder = 'Search by name or description, e.g. “image editor”', limit = 8, autoFocus, clearOnSelect }: Props) {
  const [query, setQuery] = useState('');
  const { hits, error, searching } = usePackageSearch(query, limit);
  const listId = useId();
  return (
    <div className="space-y-2">
      <Input type="search" aria-label={label} aria-controls={listId} placeholder={placeholder} value={query} onChange={(e) => setQuery(e.target.value)} autoFocus={autoFocus} />
      {error ? <p className="text-xs text-red-600 dark:text-red-400">{error}</p> : null}
      {query.trim() && !searching && !hits.length && !error ? <p className="text-xs text-slate-500 dark:text-slate-400">No package in the index matches “{query.trim()}”.</p> : null}
      {/* The previous words' results stay while the next search runs, dimmed so they are not taken for its answer. */}
      {hits.length ? (
        <ul
          id={listId}
          role="listbox"
          aria-label="Matching packages"
          aria-busy={searching}
          className={clsx('max-h-64 divide-y divide-slate-100 overflow-auto rounded-md ring-1 ring-slate-200 transition-opacity dark:divide-slate-800 dark:ring-slate-700', searching && 'opacity-50')}
        >
          {hits.map((h) => {
            const why = unavailable[h.attr];
            const isSelected = selected === h.attr;
            return (
              <li key={h.attr}>
                <button
                  type="button"
                  role="option"
                  aria-selected={isSelected}
                  disabled={!!why}
                  onClick={() => {
                    onSelect(h);
                    if (clearOnSelect) setQuery('');
                  }}
                  className={clsx(
                    'flex w-full items-start gap-3 px-3 py-2 text-left text-sm disabled:cursor-not-allowed disabled:opacity-60',
                    isSelected ? 'bg-brand-50 dark:bg-blue-950/50' : 'hover:bg-slate-50 dark:hover:bg-slate-800/70',
                  )}
                >
                  <span className={clsx('mt-1 h-3.5 w-3.5 shrink-0 rounded-full ring-2 ring-inset', isSelected ? 'bg-brand-600 ring-brand-600' : 'ring-slate-300 dark:ring-slate-600')} aria-hidden />
                  <span className="min-w-0 flex-1">
                    <span className="font-mono font-medium">{h.attr}</span> <span className="text-xs text-slate-500 dark:text-slate-400">{h.version}</span>
                    {why ? <span className="ml-2 text-xs text-slate-500 dark:text-slate-400">({why})</span> : null}
                    <span className="block text-xs text-slate-500 dark:text-slate-400">{h.description || 'No description'}</span>
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      ) : null}
    </div>
  );
}
