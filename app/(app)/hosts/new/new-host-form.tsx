'use client';

import Link from 'next/link';
import { useActionState } from 'react';
import { Button, buttonClass } from '@/components/ui/button';
import { Field, FormError, Input } from '@/components/ui/form';
import { EnrollInstructions } from '@/components/hosts/enroll-instructions';
import { createHostAction } from '../actions';

export function NewHostForm() {
  const [state, formAction, pending] = useActionState(createHostAction, null);
  if (state?.ok) {
    return (
      <div className="space-y-4">
        <p className="text-sm">
          <strong>{state.data.name}</strong> was added with a default configuration (version 1).
        </p>
        <EnrollInstructions token={state.data.enrollToken} expiresAt={state.data.enrollTokenExpiresAt} />
        <div className="flex gap-2">
          <Link href={`/hosts/${state.data.name}/config`} className={buttonClass('primary')}>
            Edit its configuration
          </Link>
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
        <Input id="host-name" name="name" required placeholder="web-01" autoFocus />
      </Field>
      <Field label="Tags" htmlFor="host-tags" error={fields.tags ?? fields['tags.0']} hint="Comma-separated. Shared modules apply by tag.">
        <Input id="host-tags" name="tags" placeholder="web, prod" />
      </Field>
      <Field label="Assigned people" htmlFor="host-assignees" error={fields.assignees ?? fields['assignees.0']} hint="E-mail addresses of members who use this machine.">
        <Input id="host-assignees" name="assignees" placeholder="ada@example.com" />
      </Field>
      <Button type="submit" disabled={pending}>
        {pending ? 'Adding…' : 'Add host'}
      </Button>
    </form>
  );
}
