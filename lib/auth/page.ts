// For server-rendered pages: the signed-in caller, or a redirect to sign-in (or to
// first-run setup when nobody exists yet).
import { redirect } from 'next/navigation';
import { hasAnyUser } from '@/lib/orgs/first-admin';
import type { Caller } from './caller';
import { sessionCaller } from './session';

export async function pageCaller(): Promise<Caller> {
  const caller = await sessionCaller();
  if (caller) return caller;
  redirect((await hasAnyUser()) ? '/login' : '/setup');
}
