'use client';

// A person's saved host-list filters as chips, "Save this filter" for the list as it is
// filtered and sorted now, and deleting one's own.
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState, useTransition } from 'react';
import type { z } from 'zod';
import { Button } from '@/components/ui/button';
import { Field, FormError, Input } from '@/components/ui/form';
import { Modal } from '@/components/ui/modal';
import type { ZFilterQuery } from '@/lib/hosts/saved-filters';
import { deleteHostFilterAction, saveHostFilterAction } from './actions';

type SavedFilter = { id: string; name: string; href: string; active: boolean };

export function SavedFilters({ filters, current }: { filters: SavedFilter[]; current: z.input<typeof ZFilterQuery> | null }) {
  const router = useRouter();
  const [naming, setNaming] = useState(false);
  const [name, setName] = useState('');
  const [error, setError] = useState<string>();
  const [pending, start] = useTransition();

  function save() {
    if (!current) return;
    start(async () => {
      const result = await saveHostFilterAction(null, { name, query: current });
      if (result?.ok) {
        setNaming(false);
        setName('');
        setError(undefined);
        router.refresh();
      } else if (result) setError(result.error.fields?.name ?? result.error.message);
    });
  }

  function remove(filter: SavedFilter) {
    if (!window.confirm(`Delete the saved filter "${filter.name}"?`)) return;
    start(async () => {
      const result = await deleteHostFilterAction(null, { id: filter.id });
      if (result?.ok) router.refresh();
      else if (result) setError(result.error.message);
    });
  }

  if (!filters.length && !current) return null;
  return (
    <div className="mt-3 flex flex-wrap items-center gap-1.5 text-xs" data-testid="saved-filters">
      <span className="mr-1 text-slate-500">Saved filters:</span>
      {filters.length === 0 ? <span className="text-slate-400">none yet</span> : null}
      {filters.map((f) => (
        <span
          key={f.id}
          className={
            f.active
              ? 'inline-flex items-center rounded-full bg-brand-600 font-medium text-white'
              : 'inline-flex items-center rounded-full bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300'
          }
        >
          <Link href={f.href} className="rounded-l-full py-0.5 pl-2.5 pr-1 hover:underline" aria-current={f.active ? 'true' : undefined}>
            {f.name}
          </Link>
          <button
            type="button"
            aria-label={`Delete saved filter ${f.name}`}
            disabled={pending}
            onClick={() => remove(f)}
            className="rounded-r-full py-0.5 pl-1 pr-2 opacity-60 hover:opacity-100"
          >
            ×
          </button>
        </span>
      ))}
      {current ? (
        <Button type="button" variant="ghost" size="sm" className="ml-1" onClick={() => setNaming(true)}>
          Save this filter
        </Button>
      ) : null}
      {error && !naming ? <span className="text-red-600 dark:text-red-400">{error}</span> : null}
      {naming ? (
        <Modal
          title="Save this filter"
          description="Only you see your saved filters. They keep the filters and the order, not the page."
          onClose={() => {
            setNaming(false);
            setError(undefined);
          }}
          footer={
            <>
              <Button type="button" variant="secondary" onClick={() => setNaming(false)}>
                Cancel
              </Button>
              <Button type="submit" form="save-host-filter" disabled={pending || !name.trim()}>
                {pending ? 'Saving…' : 'Save filter'}
              </Button>
            </>
          }
        >
          <form
            id="save-host-filter"
            className="space-y-3"
            onSubmit={(e) => {
              e.preventDefault();
              save();
            }}
          >
            <Field label="Name" htmlFor="saved-filter-name" hint="For example “offline web hosts in eu”.">
              <Input id="saved-filter-name" autoFocus maxLength={60} value={name} onChange={(e) => setName(e.target.value)} />
            </Field>
            <FormError message={error} />
          </form>
        </Modal>
      ) : null}
    </div>
  );
}
