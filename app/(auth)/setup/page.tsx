import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { hasAnyUser } from '@/lib/orgs/first-admin';
import { SetupForm } from './setup-form';

export const metadata: Metadata = { title: 'Set up Flotilla' };
export const dynamic = 'force-dynamic';

export default async function SetupPage() {
  // One-time: once anyone exists, this page is gone (the action re-checks under a lock).
  if (await hasAnyUser()) redirect('/login');
  return <SetupForm />;
}
