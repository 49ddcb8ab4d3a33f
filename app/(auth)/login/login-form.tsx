'use client';

import { signIn } from 'next-auth/react';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { Button } from '@/components/ui/button';
import { Field, FormError, Input } from '@/components/ui/form';

const MESSAGES: Record<string, string> = {
  CredentialsSignin: 'Wrong e-mail or password.',
  RateLimited: 'Too many failed attempts. Wait a few minutes and try again.',
  AccessDenied: 'This identity has no Flotilla account. Ask an admin for an invitation.',
  OidcEmailUnverified: 'Your identity provider has not verified this e-mail address, so Flotilla cannot trust it. Verify the address there, then sign in again.',
  OidcNoEmail: 'Your identity provider did not share an e-mail address. Allow the "email" scope, then sign in again.',
  OAuthSignin: 'Single sign-on could not start. Check the identity provider settings.',
  OAuthCallback: 'Single sign-on failed. Try again.',
  SessionRequired: 'Sign in to continue.',
};

export function LoginForm(props: { oidc: string | null; initialError?: string; email?: string; notice?: string; callbackUrl: string }) {
  const router = useRouter();
  const [error, setError] = useState(props.initialError ? (MESSAGES[props.initialError] ?? 'Sign-in failed. Try again.') : undefined);
  const [pending, setPending] = useState(false);

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPending(true);
    setError(undefined);
    const result = await signIn('credentials', { email: form.get('email'), password: form.get('password'), redirect: false });
    if (result?.ok && !result.error) {
      router.replace(props.callbackUrl);
      router.refresh();
      return;
    }
    setPending(false);
    setError(MESSAGES[result?.error ?? ''] ?? 'Sign-in failed. Try again.');
  }

  return (
    <div className="space-y-5">
      <div>
        <h1 className="text-lg font-semibold">Sign in</h1>
        <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">Use your work e-mail and password.</p>
      </div>
      {props.notice && !error ? (
        <p className="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800 dark:bg-emerald-950/50 dark:text-emerald-300">{props.notice}</p>
      ) : null}
      <FormError message={error} />
      <form onSubmit={onSubmit} className="space-y-4">
        <Field label="E-mail" htmlFor="email">
          <Input id="email" name="email" type="email" autoComplete="username" required defaultValue={props.email} autoFocus />
        </Field>
        <Field label="Password" htmlFor="password">
          <Input id="password" name="password" type="password" autoComplete="current-password" required />
        </Field>
        <Button type="submit" className="w-full" disabled={pending}>
          {pending ? 'Signing in…' : 'Sign in'}
        </Button>
      </form>
      {props.oidc ? (
        <>
          <div className="flex items-center gap-3 text-xs text-slate-400">
            <span className="h-px flex-1 bg-slate-200 dark:bg-slate-800" /> or <span className="h-px flex-1 bg-slate-200 dark:bg-slate-800" />
          </div>
          <Button variant="secondary" className="w-full" onClick={() => signIn('oidc', { callbackUrl: props.callbackUrl })}>
            Continue with {props.oidc}
          </Button>
        </>
      ) : null}
    </div>
  );
}
