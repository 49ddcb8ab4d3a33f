'use client';

import { signIn } from 'next-auth/react';
import { useRouter } from 'next/navigation';
import { useActionState, useEffect, useRef } from 'react';
import { Button } from '@/components/ui/button';
import { Field, FormError, Input } from '@/components/ui/form';
import { setupInstanceAction } from '../actions';

export function SetupForm() {
  const router = useRouter();
  const [state, formAction, pending] = useActionState(setupInstanceAction, null);
  const password = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!state?.ok) return;
    void signIn('credentials', { email: state.data.email, password: password.current?.value, redirect: false }).then(() => {
      router.replace('/');
      router.refresh();
    });
  }, [state, router]);

  const fields = state?.ok === false ? (state.error.fields ?? {}) : {};
  return (
    <div className="space-y-5">
      <div>
        <h1 className="text-lg font-semibold">Set up Flotilla</h1>
        <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">Create your organisation and its first admin. This page works once.</p>
      </div>
      <FormError message={state?.ok === false && !state.error.fields ? state.error.message : undefined} />
      <form action={formAction} className="space-y-4">
        <Field label="Organisation" htmlFor="orgName" error={fields.orgName}>
          <Input id="orgName" name="orgName" required placeholder="Acme IT" />
        </Field>
        <Field label="Your name" htmlFor="name" error={fields.name}>
          <Input id="name" name="name" required autoComplete="name" />
        </Field>
        <Field label="E-mail" htmlFor="email" error={fields.email}>
          <Input id="email" name="email" type="email" required autoComplete="username" />
        </Field>
        <Field label="Password" htmlFor="password" error={fields.password} hint="At least 12 characters.">
          <Input ref={password} id="password" name="password" type="password" required minLength={12} autoComplete="new-password" />
        </Field>
        <Button type="submit" className="w-full" disabled={pending || state?.ok === true}>
          {pending || state?.ok ? 'Setting up…' : 'Create organisation'}
        </Button>
      </form>
    </div>
  );
}
