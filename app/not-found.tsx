import type { Metadata } from 'next';
import Link from 'next/link';
import { Logo } from '@/components/brand/logo';
import { buttonClass } from '@/components/ui/button';

export const metadata: Metadata = { title: 'Not found' };

// Every unknown address, and every page that calls notFound() (a host, build or request that
// does not exist or is out of the caller's reach): in the app's own look, not Next's default.
export default function NotFound() {
  return (
    <main className="flex min-h-screen flex-col items-center justify-center px-4 py-12">
      <Link href="/" className="mb-8 flex items-center gap-2.5">
        <Logo className="h-9 w-9" />
        <span className="text-xl font-semibold tracking-tight">Flotilla</span>
      </Link>
      <div className="w-full max-w-md rounded-xl bg-white p-7 text-center shadow-sm ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-800">
        <p className="text-sm font-semibold text-brand-600 dark:text-blue-400">404</p>
        <h1 className="mt-1 text-xl font-semibold tracking-tight">Nothing here</h1>
        <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">This page does not exist, or what it shows is not yours to see. Check the address, or start again from the home page.</p>
        <Link href="/" className={`${buttonClass('primary')} mt-6`}>
          Back to Flotilla
        </Link>
      </div>
    </main>
  );
}
