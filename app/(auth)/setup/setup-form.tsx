'use client';

import { signIn } from 'next-auth/react';
import { useRouter } from 'next/navigation';
import { Button } from '@/components/ui/button';
import { Field, FormError, Input } from '@/components/ui/form';
import { useFormAction } from '@/components/ui/use-form-action';
import { setupInstanceAction } from '../actions';

export function SetupForm() {
  const router = useRouter();
  const { state, formAction, pending, submitted } = useFormAction(setupInstanceAction, async (result, form) => {
    if (!result?.ok) return;
    // Signed in with the password of this very submission: React empties the form once the
    // action ends, so reading the field afterwards would sign in with nothing.
    const signedIn = await signIn('credentials', { email: result.data.email, password: String(form.get('password') ?? ''), redirect: false });
    if (signedIn?.ok && !signedIn.error) {
      router.replace('/');
      router.refresh();
    } else {
      // The admin exists; should signing in fail (a rate limit), the sign-in page says why.
      router.replace(`/login?email=${encodeURIComponent(result.data.email)}${signedIn?.error ? `&error=${encodeURIComponent(signedIn.error)}` : ''}`);
    }
  });

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
          <Input id="orgName" name="orgName" required placeholder="Acme IT" defaultValue={submitted('orgName')} />
        </Field>
        <Field label="Your name" htmlFor="name" error={fields.name}>
          <Input id="name" name="name" required autoComplete="name" defaultValue={submitted('name')} />
        </Field>
        <Field label="E-mail" htmlFor="email" error={fields.email}>
          <Input id="email" name="email" type="email" required autoComplete="username" defaultValue={submitted('email')} />
        </Field>
        <Field label="Password" htmlFor="password" error={fields.password} hint="At least 12 characters.">
          <Input id="password" name="password" type="password" required minLength={12} autoComplete="new-password" />
        </Field>
        <Button type="submit" className="w-full" disabled={pending || state?.ok === true}>
          {pending || state?.ok ? 'Setting up…' : 'Create organisation'}
        </Button>
      </form>
    </div>
  );
}
