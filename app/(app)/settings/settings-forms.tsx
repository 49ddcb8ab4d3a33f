'use client';

import { signIn } from 'next-auth/react';
import { useActionState, useEffect, useRef } from 'react';
import { Button } from '@/components/ui/button';
import { Field, FormError, Input } from '@/components/ui/form';
import { changePasswordAction, renameOrgAction, setRetentionAction } from './actions';

export function OrgNameForm({ name, editable }: { name: string; editable: boolean }) {
  const [state, formAction, pending] = useActionState(renameOrgAction, null);
  const fields = state?.ok === false ? (state.error.fields ?? {}) : {};
  return (
    <form action={formAction} className="space-y-4">
      <FormError message={state?.ok === false && !state.error.fields ? state.error.message : undefined} />
      <Field label="Name" htmlFor="org-name" error={fields.name}>
        <Input id="org-name" name="name" defaultValue={name} disabled={!editable} required maxLength={100} />
      </Field>
      {editable ? (
        <div className="flex items-center gap-3">
          <Button type="submit" disabled={pending}>
            Save
          </Button>
          {state?.ok ? <span className="text-sm text-emerald-600">Saved</span> : null}
        </div>
      ) : null}
    </form>
  );
}

export function PasswordForm() {
  const [state, formAction, pending] = useActionState(changePasswordAction, null);
  const next = useRef<HTMLInputElement>(null);
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    // The change ended every session, this one included: sign in again with the new password.
    if (state?.ok) void signIn('credentials', { email: state.data.email, password: next.current?.value, redirect: false }).then(() => form.current?.reset());
  }, [state]);
  const fields = state?.ok === false ? (state.error.fields ?? {}) : {};
  return (
    <form ref={form} action={formAction} className="space-y-4">
      <FormError message={state?.ok === false && !state.error.fields ? state.error.message : undefined} />
      <Field label="Current password" htmlFor="currentPassword" error={fields.currentPassword}>
        <Input id="currentPassword" name="currentPassword" type="password" autoComplete="current-password" />
      </Field>
      <Field label="New password" htmlFor="newPassword" error={fields.newPassword} hint="At least 12 characters.">
        <Input ref={next} id="newPassword" name="newPassword" type="password" autoComplete="new-password" required minLength={12} />
      </Field>
      <div className="flex items-center gap-3">
        <Button type="submit" disabled={pending}>
          Change password
        </Button>
        {state?.ok ? <span className="text-sm text-emerald-600">Password changed</span> : null}
      </div>
    </form>
  );
}

export function RetentionForm({ days, editable }: { days: number; editable: boolean }) {
  const [state, formAction, pending] = useActionState(setRetentionAction, null);
  const fields = state?.ok === false ? (state.error.fields ?? {}) : {};
  return (
    <form action={formAction} className="flex flex-wrap items-end gap-3">
      <Field label="Keep builds in the cache for (days)" htmlFor="retention" error={fields.days ?? (state?.ok === false ? state.error.message : undefined)}>
        <Input id="retention" name="days" type="number" min={1} max={3650} defaultValue={days} disabled={!editable} className="w-32" />
      </Field>
      {editable ? (
        <Button type="submit" disabled={pending}>
          Save
        </Button>
      ) : null}
      {state?.ok ? <span className="pb-2 text-sm text-emerald-600">Saved</span> : null}
    </form>
  );
}
