'use client';

// Approving something other than what was asked: another package for an install or a
// removal, or, for a change in words, the host's module as the reviewer rewrote it.
import { useEffect, useState, useTransition } from 'react';
import type { Diagnostic } from '@/components/editor/nix-editor';
import { NixEditor } from '@/components/editor/nix-editor';
import { actionError } from '@/components/requests/action-error';
import { PackageSearch } from '@/components/requests/package-search';
import { Button } from '@/components/ui/button';
import { FormError, Select } from '@/components/ui/form';
import { approveRequestAction } from '../actions';
import type { TRequestDetail } from '@/lib/api/streams';
import type { PackageLists } from './review-panel';

type Props = { view: TRequestDetail; packages: PackageLists | null; message: string; onCancel: () => void; onDecided: (view: TRequestDetail) => void };

/** The host's current module, fetched when the reviewer starts editing, so the edit starts from what is there now. */
function useCurrentModule(host: string, wanted: boolean) {
  const [module, setModule] = useState<string | null>(null);
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!wanted) return;
    const controller = new AbortController();
    fetch(`/api/v1/hosts/${encodeURIComponent(host)}/config`, { signal: controller.signal })
      .then(async (res) => {
        const body = (await res.json()) as { module?: string; error?: { message: string } };
        if (!res.ok) throw new Error(body.error?.message ?? res.statusText);
        setModule(body.module ?? '');
      })
      .catch((e: Error) => {
        if (!controller.signal.aborted) setError(e.message);
      });
    return () => controller.abort();
  }, [host, wanted]);
  return { module, error };
}

export function EditAndApprove({ view, packages, message, onCancel, onDecided }: Props) {
  const [pkg, setPkg] = useState(view.package ?? '');
  const current = useCurrentModule(view.host, view.kind === 'change');
  const [text, setText] = useState<string | null>(null);
  const [diagnostics, setDiagnostics] = useState<Diagnostic[]>([]);
  const [error, setError] = useState<string>();
  const [busy, start] = useTransition();
  const moduleText = text ?? current.module;

  const approve = () =>
    start(async () => {
      const edit = view.kind === 'change' ? { module: moduleText ?? '' } : { package: pkg };
      const result = await approveRequestAction(null, { id: view.id, ...edit, ...(message.trim() ? { comment: message } : {}) });
      if (result?.ok) return onDecided(result.data);
      const details = result?.ok === false ? (result.error.details as Partial<Diagnostic> | undefined) : undefined;
      setDiagnostics(details?.line && details.column && details.message ? [{ line: details.line, column: details.column, message: details.message }] : []);
      setError(actionError(result));
    });

  return (
    <div className="space-y-3" data-testid="edit-and-approve">
      <h3 className="text-sm font-semibold">Edit &amp; approve</h3>
      {view.kind === 'install' ? (
        <>
          <p className="text-sm text-slate-600 dark:text-slate-300">
            Install another package instead of <span className="font-mono">{view.package}</span> (a better-suited one, or the fleet’s usual choice):
          </p>
          <PackageSearch selected={pkg} onSelect={(h) => setPkg(h.attr)} unavailable={Object.fromEntries((packages?.before ?? []).map((p) => [p, 'already installed']))} autoFocus />
          <p className="text-sm">
            Will install: <span className="font-mono font-medium">{pkg}</span>
          </p>
        </>
      ) : view.kind === 'remove' ? (
        <label className="block max-w-sm space-y-1.5 text-sm">
          <span className="font-medium text-slate-700 dark:text-slate-300">Remove instead</span>
          <Select value={pkg} onChange={(e) => setPkg(e.target.value)}>
            {(packages?.before ?? [pkg]).map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </Select>
        </label>
      ) : current.error ? (
        <FormError message={`The host’s module could not be loaded: ${current.error}`} />
      ) : moduleText === null ? (
        <p className="text-sm text-slate-500">Loading the host’s module…</p>
      ) : (
        <>
          <p className="text-sm text-slate-600 dark:text-slate-300">Write the change into {view.host}’s module. It is checked for Nix syntax before anything is saved.</p>
          <NixEditor label="Host module" value={moduleText} onChange={setText} diagnostics={diagnostics} className="h-80" />
        </>
      )}
      <FormError message={error} />
      <div className="flex flex-wrap gap-2">
        <Button disabled={busy || (view.kind !== 'change' && !pkg) || (view.kind === 'change' && moduleText === null)} onClick={approve}>
          {busy ? 'Approving…' : view.kind === 'change' ? 'Approve with this module' : `Approve: ${view.kind} ${pkg}`}
        </Button>
        <Button variant="secondary" disabled={busy} onClick={onCancel}>
          Back
        </Button>
      </div>
    </div>
  );
}
