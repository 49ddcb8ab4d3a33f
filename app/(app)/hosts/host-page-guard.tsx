import { notFound } from 'next/navigation';
import { Forbidden } from '@/components/shell/forbidden';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { findHost, type HostInReach } from '@/lib/hosts/reach';

/**
 * A host page's data: the host resolved within the caller's reach (the same check as the
 * API's host-scoped routes), then `load`; the domain's 404/403 become the page's
 * not-found and forbidden views.
 */
export async function hostPageGuard<T>(caller: Caller, name: string, load: (host: HostInReach) => Promise<T>): Promise<T | { denied: React.ReactNode }> {
  try {
    return await load(await findHost(caller, name));
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_found') notFound();
    if (error instanceof AppError && error.code === 'forbidden') return { denied: <Forbidden what="This host" /> };
    throw error;
  }
}
