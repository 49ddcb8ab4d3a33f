'use client';

import { useActionState } from 'react';
import { ActionButton } from '@/components/ui/action-button';
import { Button } from '@/components/ui/button';
import { Field, FormError, Input, Select } from '@/components/ui/form';
import { createTokenAction, revokeTokenAction } from './actions';
import { CopyButton } from '@/components/ui/copy-button';

export function CreateTokenForm({ scopes }: { scopes: { id: string; label: string }[] }) {
  const [state, formAction, pending] = useActionState(createTokenAction, null);
  const fields = state?.ok === false ? (state.error.fields ?? {}) : {};
  // A bad tag is reported at its place in the list ("hostTags.1"); the form has one field for all.
  const hostTagsError = Object.entries(fields).find(([path]) => path === 'hostTags' || path.startsWith('hostTags.'))?.[1];
  return (
    <div className="space-y-4">
      <FormError message={state?.ok === false && !state.error.fields ? state.error.message : undefined} />
      {state?.ok ? (
        <div className="rounded-md bg-emerald-50 p-3 text-sm text-emerald-900 ring-1 ring-emerald-200 dark:bg-emerald-950/50 dark:text-emerald-200 dark:ring-emerald-900">
          <p className="font-medium">Token created. Copy it now: it will not be shown again.</p>
          <div className="mt-2 flex items-center gap-2">
            <input
            readOnly
            aria-label="New token"
            data-testid="new-token"
            value={state.data.token}
            className="w-full rounded bg-white px-2 py-1 font-mono text-xs dark:bg-slate-900"
            onFocus={(e) => e.target.select()}
          />
            <CopyButton text={state.data.token} label="Copy token" />
          </div>
        </div>
      ) : null}
      <form action={formAction} className="space-y-4" key={state?.ok ? state.at : 'form'}>
        <div className="grid gap-4 md:grid-cols-2">
          <Field label="Name" htmlFor="token-name" error={fields.name} hint="What uses it, e.g. “CI deploy”.">
            <Input id="token-name" name="name" required maxLength={100} />
          </Field>
          <Field label="Expires" htmlFor="token-expiry" error={fields.expiresInDays}>
            <Select id="token-expiry" name="expiresInDays" defaultValue="90">
              <option value="7">in 7 days</option>
              <option value="30">in 30 days</option>
              <option value="90">in 90 days</option>
              <option value="365">in a year</option>
              <option value="">never</option>
            </Select>
          </Field>
          <Field label="Limit to hosts tagged (optional)" htmlFor="token-host-tags" error={hostTagsError} hint="For CI deploy tokens: it reaches only hosts with one of these tags, to read, change or deploy them, and so do tokens it makes. Comma-separated.">
            <Input id="token-host-tags" name="hostTags" maxLength={1000} placeholder="e.g. web, staging" autoComplete="off" />
          </Field>
        </div>
        <fieldset>
          <legend className="text-sm font-medium text-slate-700 dark:text-slate-300">Scopes</legend>
          {fields.scopes ? <p className="text-xs text-red-600">{fields.scopes}</p> : null}
          <div className="mt-2 grid gap-2 sm:grid-cols-2">
            {scopes.map((s) => (
              <label key={s.id} className="flex items-start gap-2 text-sm">
                <input type="checkbox" name="scopes[]" value={s.id} className="mt-0.5 rounded border-slate-300" />
                <span>
                  <span className="font-mono text-xs">{s.id}</span>
                  <span className="block text-xs text-slate-500">{s.label}</span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>
        <Button type="submit" disabled={pending}>
          {pending ? 'Creating…' : 'Create token'}
        </Button>
      </form>
    </div>
  );
}

export function RevokeTokenButton({ tokenId, name }: { tokenId: string; name: string }) {
  return (
    <ActionButton run={() => revokeTokenAction(null, { tokenId })} confirm={`Revoke “${name}”? Anything using it stops working at once.`}>
      Revoke
    </ActionButton>
  );
}
