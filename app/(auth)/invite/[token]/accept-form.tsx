'use client';

import { useRouter } from 'next/navigation';
import { useActionState, useEffect } from 'react';
import { Button } from '@/components/ui/button';
import { Field, FormError, Input } from '@/components/ui/form';
import { acceptInvitationAction } from '../../actions';

export function AcceptForm(props: { token: string; email: string; name: string; orgName: string; role: string }) {
  const router = useRouter();
  const [state, formAction, pending] = useActionState(acceptInvitationAction, null);
  useEffect(() => {
    if (state?.ok) router.replace(`/login?joined=1&email=${encodeURIComponent(state.data.email)}`);
  }, [state, router]);
  const fields = state?.ok === false ? (state.error.fields ?? {}) : {};
  return (
    <div className="space-y-5">
      <div>
        <h1 className="text-lg font-semibold">Join {props.orgName}</h1>
        <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">
          You were invited as <strong>{props.role}</strong> with {props.email}.
        </p>
      </div>
      <FormError message={state?.ok === false && !state.error.fields ? state.error.message : undefined} />
      <form action={formAction} className="space-y-4">
        <input type="hidden" name="token" value={props.token} />
        <Field label="Your name" htmlFor="name" error={fields.name}>
          <Input id="name" name="name" required defaultValue={props.name} autoComplete="name" />
        </Field>
        <Field label="Choose a password" htmlFor="password" error={fields.password} hint="At least 12 characters.">
          <Input id="password" name="password" type="password" required minLength={12} autoComplete="new-password" />
        </Field>
        <Button type="submit" className="w-full" disabled={pending}>
          {pending ? 'Joining…' : 'Join'}
        </Button>
      </form>
    </div>
  );
}
