'use client';

import { useRouter } from 'next/navigation';
import { useState, useTransition } from 'react';
import type { Diagnostic } from '@/components/editor/nix-editor';
import { NixDiff } from '@/components/editor/nix-diff';
import { NixEditor } from '@/components/editor/nix-editor';
import { describeSaveError } from '@/components/editor/save-error';
import { Button } from '@/components/ui/button';
import { Field, FormError, Input } from '@/components/ui/form';
import { createModuleAction, saveModuleAction } from './actions';

type Initial = { name: string; tags: string[]; text: string; version: number };
type Conflict = { latest: { version: number; text: string; author: string | null } };

export function ModuleEditor({ initial, editable }: { initial: Initial; editable: boolean }) {
  const router = useRouter();
  const creating = initial.version === 0;
  const [name, setName] = useState(initial.name);
  const [tags, setTags] = useState(initial.tags.join(', '));
  const [text, setText] = useState(initial.text);
  const [base, setBase] = useState(initial.version);
  const [message, setMessage] = useState('');
  const [diagnostics, setDiagnostics] = useState<Diagnostic[]>([]);
  const [error, setError] = useState<string>();
  const [conflict, setConflict] = useState<Conflict>();
  const [savedAt, setSavedAt] = useState<number>();
  const [pending, start] = useTransition();

  function save(baseVersion = base) {
    setError(undefined);
    start(async () => {
      const result = creating
        ? await createModuleAction(null, { name, tags, text, message: message || undefined })
        : await saveModuleAction(null, { module: initial.name, tags, text, baseVersion, message: message || undefined });
      if (!result) return;
      if (result.ok) {
        setDiagnostics([]);
        setConflict(undefined);
        setBase(result.data.version);
        setSavedAt(result.data.version);
        if (creating) router.push(`/modules/${result.data.name}`);
        else router.refresh();
        return;
      }
      const problem = describeSaveError(result.error);
      setError(problem.message);
      if (problem.diagnostic) setDiagnostics([problem.diagnostic]);
      if (problem.conflict) setConflict(problem.conflict as Conflict);
    });
  }

  return (
    <div className="space-y-4">
      <FormError message={error} />
      {savedAt && !error ? <p className="text-sm text-emerald-600">Saved as version {savedAt}.</p> : null}
      <div className="grid gap-4 md:grid-cols-2">
        {creating ? (
          <Field label="Name" htmlFor="module-name">
            <Input id="module-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="ssh-hardening" />
          </Field>
        ) : null}
        <Field label="Applies to tags" htmlFor="module-tags" hint="Comma-separated; hosts with any of these tags get the module.">
          <Input id="module-tags" value={tags} onChange={(e) => setTags(e.target.value)} disabled={!editable} />
        </Field>
      </div>
      {conflict ? (
        <NixDiff original={conflict.latest.text} modified={text} originalLabel={`Saved: v${conflict.latest.version} by ${conflict.latest.author ?? 'unknown'}`} modifiedLabel="Yours (editable)" editable onModifiedChange={setText} />
      ) : (
        <NixEditor label="Module text" value={text} onChange={setText} diagnostics={diagnostics} readOnly={!editable} />
      )}
      {editable ? (
        <div className="flex flex-wrap items-center gap-3">
          <Input aria-label="Change message" className="max-w-md flex-1" placeholder="What changed, and why" value={message} onChange={(e) => setMessage(e.target.value)} />
          <Button
            disabled={pending}
            onClick={() => save(conflict ? conflict.latest.version : base)}
          >
            {creating ? 'Create module' : conflict ? `Save on top of v${conflict.latest.version}` : 'Save'}
          </Button>
        </div>
      ) : null}
    </div>
  );
}
