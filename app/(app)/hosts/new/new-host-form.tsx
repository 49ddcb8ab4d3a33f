'use client';

import Link from 'next/link';
import { Button, buttonClass } from '@/components/ui/button';
import { Field, FormError, Input } from '@/components/ui/form';
import { EnrollInstructions } from '@/components/hosts/enroll-instructions';
import { useFormAction } from '@/components/ui/use-form-action';
import type { TSimulation } from '@/lib/hosts/enroll-commands';
import { createHostAction } from '../actions';

export function NewHostForm({ simulation }: { simulation: TSimulation | null }) {
  // A refused form keeps what was typed (see useFormAction).
  const { state, formAction, pending, submitted } = useFormAction(createHostAction);
  if (state?.ok) {
    return (
      <div className="space-y-4">
        <p className="text-sm">
          {state.data.deployOnly ? (
            <>
              <strong>{state.data.name}</strong> was added as deploy-only: push its systems from CI (<code>nix copy</code> or <code>flotilla push</code>) and deploy them with
              deploy.json.
            </>
          ) : (
            <>
              <strong>{state.data.name}</strong> was added with a default configuration (version 1).
            </>
          )}
        </p>
        <EnrollInstructions host={state.data.name} token={state.data.enrollToken} expiresAt={state.data.enrollTokenExpiresAt} simulation={simulation} />
        <div className="flex gap-2">
          {state.data.deployOnly ? null : (
            <Link href={`/hosts/${state.data.name}/config`} className={buttonClass('primary')}>
              Edit its configuration
            </Link>
          )}
          <Link href={`/hosts/${state.data.name}`} className={buttonClass('secondary')}>
            Open host
          </Link>
        </div>
      </div>
    );
  }
  const fields = state?.ok === false ? (state.error.fields ?? {}) : {};
  return (
    <form action={formAction} className="space-y-4">
      <FormError message={state?.ok === false && !state.error.fields ? state.error.message : undefined} />
      <Field label="Name" htmlFor="host-name" error={fields.name} hint="Its hostname: lowercase letters, digits and hyphens.">
        <Input id="host-name" name="name" required placeholder="web-01" autoFocus defaultValue={submitted('name')} />
      </Field>
      <Field label="Tags" htmlFor="host-tags" error={fields.tags ?? fields['tags.0']} hint="Comma-separated. Shared modules apply by tag.">
        <Input id="host-tags" name="tags" placeholder="web, prod" defaultValue={submitted('tags')} />
      </Field>
      <Field label="Assigned people" htmlFor="host-assignees" error={fields.assignees ?? fields['assignees.0']} hint="E-mail addresses of members who use this machine.">
        <Input id="host-assignees" name="assignees" placeholder="ada@example.com" defaultValue={submitted('assignees')} />
      </Field>
      <label className="flex items-start gap-2 text-sm">
        <input type="checkbox" name="deployOnly" className="mt-0.5" defaultChecked={submitted('deployOnly') === 'on'} />
        <span>
          <span className="font-medium">Deploy-only</span>
          <span className="block text-xs text-slate-500 dark:text-slate-400">
            Its configuration lives in your own repository: CI builds it, pushes it to this server&apos;s cache and deploys it with deploy.json (as with Cachix Deploy). Flotilla keeps no config for it and never builds it.
          </span>
        </span>
      </label>
      <Button type="submit" disabled={pending}>
        {pending ? 'Adding…' : 'Add host'}
      </Button>
    </form>
  );
}
