// For server-rendered pages: the signed-in caller (or a redirect to sign-in, or to
// first-run setup when nobody exists yet) and whether the page's declared access lets
// them see it. Every page under app/(app) declares its access here; the permission
// tests read the declarations and check them against the permission table.
import { redirect } from 'next/navigation';
import { requiredPermissions, type Access } from '@/lib/api/route';
import { hasAnyUser } from '@/lib/orgs/first-admin';
import type { Caller } from './caller';
import { sessionCaller } from './session';

export type PageAccess = Exclude<Access, 'public'>;

export async function pageCaller(access: PageAccess): Promise<{ caller: Caller; allowed: boolean }> {
  const caller = await sessionCaller();
  if (!caller) redirect((await hasAnyUser()) ? '/login' : '/setup');
  return { caller, allowed: requiredPermissions(access).every((p) => caller.permissions.has(p)) };
}
