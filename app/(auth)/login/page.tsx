import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { sessionCaller } from '@/lib/auth/session';
import { oidcEnabled } from '@/lib/auth/next-auth';
import { env } from '@/lib/env';
import { hasAnyUser } from '@/lib/orgs/first-admin';
import { LoginForm } from './login-form';

export const metadata: Metadata = { title: 'Sign in' };
export const dynamic = 'force-dynamic';

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  if (!(await hasAnyUser())) redirect('/setup');
  if (await sessionCaller()) redirect('/');
  const params = await searchParams;
  return (
    <LoginForm
      oidc={oidcEnabled() ? (env().FLOTILLA_OIDC_NAME ?? 'Single sign-on') : null}
      initialError={params.error}
      email={params.email}
      notice={params.joined ? 'Welcome aboard: sign in with your new password.' : undefined}
      callbackUrl={params.callbackUrl?.startsWith('/') ? params.callbackUrl : '/'}
    />
  );
}
