'use client';

import { useActionState } from 'react';
import { Button } from '@/components/ui/button';
import { Field, FormError } from '@/components/ui/form';
import { setTrustedKeysAction } from './actions';

/** One Nix public key per line; none means a cache.write token alone may push. */
export function TrustedKeysForm({ keys, editable }: { keys: string[]; editable: boolean }) {
  const [state, formAction, pending] = useActionState(setTrustedKeysAction, null);
  const fields = state?.ok === false ? (state.error.fields ?? {}) : {};
  const fieldError = Object.entries(fields).find(([name]) => name.startsWith('keys'))?.[1];
  return (
    <form action={formAction} className="space-y-3">
      <FormError message={state?.ok === false && !fieldError ? state.error.message : undefined} />
      <Field
        label="Trusted CI keys, one per line"
        htmlFor="trusted-keys"
        error={fieldError}
        hint="When any is listed, a closure pushed to the cache (nix copy, flotilla push) must be signed by one of them: push with ?secret-key=… Hosts still trust only the fleet key, which signs every accepted path."
      >
        <textarea
          id="trusted-keys"
          name="keys"
          rows={3}
          defaultValue={keys.join('\n')}
          disabled={!editable}
          placeholder="ci-example-1:AbCd…="
          spellCheck={false}
          className="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 font-mono text-xs shadow-sm focus:border-blue-500 focus:ring-1 focus:ring-blue-500 focus:outline-none disabled:bg-slate-50 dark:border-slate-700 dark:bg-slate-900"
        />
      </Field>
      {editable ? (
        <div className="flex items-center gap-3">
          <Button type="submit" disabled={pending}>
            Save keys
          </Button>
          {state?.ok ? <span className="text-sm text-emerald-600">Saved</span> : null}
        </div>
      ) : null}
    </form>
  );
}
