'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useMemo, useState, useTransition } from 'react';
import type { Diagnostic } from '@/components/editor/nix-editor';
import { NixDiff } from '@/components/editor/nix-diff';
import { NixEditor } from '@/components/editor/nix-editor';
import { describeSaveError } from '@/components/editor/save-error';
import { Button } from '@/components/ui/button';
import { Badge, Card, CardHeader } from '@/components/ui/card';
import { FormError, Input } from '@/components/ui/form';
import { generatedModule } from '@/lib/hosts/generated-module';
import type { TConfigVersion } from '@/lib/hosts/schemas';
import { saveConfigAction } from '../../actions';
import { BuildButton } from '../build-button';
import type { TStateUnit } from '@/lib/state/schemas';
import { PackagePicker } from './package-picker';
import { StateUnitsEditor } from './state-units-editor';

type Conflict = { latest: TConfigVersion; yours: { module: string; packages: string[]; state: TStateUnit[] } };
type SaveBody = { module: string; packages: string[]; state: TStateUnit[]; baseVersion: number };

export function ConfigEditor(props: { host: string; initial: TConfigVersion; modules: { name: string; version: number }[]; editable: boolean; canBuild: boolean }) {
  const router = useRouter();
  const [base, setBase] = useState(props.initial);
  const [module, setModule] = useState(props.initial.module);
  const [packages, setPackages] = useState(props.initial.packages);
  const [state, setState] = useState(props.initial.state);
  const [message, setMessage] = useState('');
  const [diagnostics, setDiagnostics] = useState<Diagnostic[]>([]);
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState<number>();
  const [conflict, setConflict] = useState<Conflict>();
  const [merged, setMerged] = useState('');
  const [pending, start] = useTransition();
  const dirty = module !== base.module || JSON.stringify(packages) !== JSON.stringify(base.packages) || JSON.stringify(state) !== JSON.stringify(base.state);
  const generated = useMemo(() => generatedModule({ packages, state }), [packages, state]);

  function save(body: SaveBody) {
    setError(undefined);
    setSaved(undefined);
    start(async () => {
      const result = await saveConfigAction(null, { host: props.host, ...body, message: message || undefined });
      if (!result) return;
      if (result.ok) {
        setDiagnostics([]);
        setConflict(undefined);
        setBase({ ...base, version: result.data.version, module: body.module, packages: [...body.packages].sort(), state: body.state });
        setModule(body.module);
        setState(body.state);
        setPackages([...body.packages].sort());
        setMessage('');
        setSaved(result.data.version);
        router.refresh();
        return;
      }
      const problem = describeSaveError(result.error);
      setError(problem.message);
      if (problem.diagnostic) setDiagnostics([problem.diagnostic]);
      if (problem.conflict) {
        const c = problem.conflict as Conflict;
        setConflict(c);
        setMerged(c.yours.module);
      }
    });
  }

  if (conflict) {
    const theirsOnly = conflict.latest.packages.filter((p) => !conflict.yours.packages.includes(p));
    const yoursOnly = conflict.yours.packages.filter((p) => !conflict.latest.packages.includes(p));
    return (
      <div className="space-y-4" data-testid="conflict-view">
        <FormError message={`${error}. Nothing was overwritten: compare the two, merge on the right, then save on top of version ${conflict.latest.version}.`} />
        <NixDiff
          original={conflict.latest.module}
          modified={conflict.yours.module}
          originalLabel={`Saved: version ${conflict.latest.version} by ${conflict.latest.author ?? 'unknown'}`}
          modifiedLabel="Yours (editable)"
          editable
          onModifiedChange={setMerged}
        />
        {theirsOnly.length || yoursOnly.length ? (
          <p className="text-sm">
            Packages differ. Only in the saved version: {theirsOnly.join(', ') || 'none'}. Only in yours: {yoursOnly.join(', ') || 'none'}. Saving keeps both.
          </p>
        ) : null}
        <div className="flex gap-2">
          <Button
            disabled={pending}
            onClick={() =>
              save({
                module: merged,
                packages: [...new Set([...conflict.latest.packages, ...conflict.yours.packages])],
                // Units of both, yours winning where both declare one name.
                state: [...conflict.yours.state, ...conflict.latest.state.filter((u) => !conflict.yours.state.some((y) => y.name === u.name))],
                baseVersion: conflict.latest.version,
              })
            }
          >
            Save merged version
          </Button>
          <Button
            variant="secondary"
            disabled={pending}
            onClick={() => {
              setBase(conflict.latest);
              setModule(conflict.latest.module);
              setPackages(conflict.latest.packages);
              setState(conflict.latest.state);
              setConflict(undefined);
              setError(undefined);
            }}
          >
            Discard mine, load version {conflict.latest.version}
          </Button>
        </div>
      </div>
    );
  }

  return (
    <div className="grid gap-6 xl:grid-cols-[minmax(0,1fr)_22rem]">
      <div className="space-y-3">
        <FormError message={error} />
        {saved ? (
          <div role="status" className="flex flex-wrap items-center justify-between gap-3 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800 dark:bg-emerald-950/50 dark:text-emerald-300">
            <span>Saved as version {saved}.{props.canBuild ? ' Build it to get a system you can deploy.' : ''}</span>
            {props.canBuild ? <BuildButton host={props.host} /> : null}
          </div>
        ) : null}
        <NixEditor
          label="Host module"
          value={module}
          onChange={(v) => {
            setModule(v);
            if (diagnostics.length) setDiagnostics([]);
          }}
          diagnostics={diagnostics}
          readOnly={!props.editable}
          className="h-[32rem]"
        />
        {props.editable ? (
          <div className="flex flex-wrap items-center gap-3">
            <Input aria-label="Change message" className="max-w-md flex-1" placeholder="What changed, and why" value={message} onChange={(e) => setMessage(e.target.value)} maxLength={500} />
            <Button disabled={pending || !dirty} onClick={() => save({ module, packages, state, baseVersion: base.version })}>
              {pending ? 'Checking…' : 'Save'}
            </Button>
            <span className="text-xs text-slate-500">
              Editing on version {base.version}
              {dirty ? ' · unsaved changes' : ''}
            </span>
          </div>
        ) : null}
      </div>
      <div className="space-y-6">
        <Card>
          <CardHeader title="Packages" description="Installed through a generated module." />
          <div className="p-4">
            <PackagePicker packages={packages} onChange={setPackages} editable={props.editable} />
          </div>
        </Card>
        <Card>
          <CardHeader title="State units" description="Data snapshotted before switches and restorable." />
          <div className="p-4">
            <StateUnitsEditor units={state} onChange={setState} editable={props.editable} />
          </div>
        </Card>
        <Card>
          <CardHeader title="Generated module" />
          <pre className="max-h-48 overflow-auto p-4 font-mono text-xs text-slate-600 dark:text-slate-300">{generated}</pre>
        </Card>
        <Card>
          <CardHeader title="Shared modules" description="Also part of this host's system." />
          <ul className="space-y-1 p-4 text-sm">
            {props.modules.length === 0 ? <li className="text-slate-500">None apply to its tags.</li> : null}
            {props.modules.map((m) => (
              <li key={m.name} className="flex justify-between">
                <Link href={`/modules/${m.name}`} className="hover:underline">
                  {m.name}
                </Link>
                <Badge tone="blue">v{m.version}</Badge>
              </li>
            ))}
          </ul>
        </Card>
      </div>
    </div>
  );
}
