import { notFound } from 'next/navigation';
import { Forbidden } from '@/components/shell/forbidden';
import { AppError } from '@/lib/api/errors';

/** Turns the domain's 404/403 into the page's not-found and forbidden views. */
export async function hostPageGuard<T>(load: () => Promise<T>): Promise<T | { denied: React.ReactNode }> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_found') notFound();
    if (error instanceof AppError && error.code === 'forbidden') return { denied: <Forbidden what="This host" /> };
    throw error;
  }
}
