import type { Metadata } from 'next';
import Link from 'next/link';
import { ROLE_LABELS } from '@/lib/auth/permissions';
import { findInvitation } from '@/lib/orgs/accept-invitation';
import { AcceptForm } from './accept-form';

export const metadata: Metadata = { title: 'Join' };
export const dynamic = 'force-dynamic';

export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const found = await findInvitation(token);
  if (!found) {
    return (
      <div className="space-y-3">
        <h1 className="text-lg font-semibold">Invitation not valid</h1>
        <p className="text-sm text-slate-500 dark:text-slate-400">This link has expired, was revoked, or was already used. Ask your admin for a new one.</p>
        <Link href="/login" className="text-sm font-medium text-brand-600 hover:underline">
          Go to sign in
        </Link>
      </div>
    );
  }
  return (
    <AcceptForm
      token={token}
      email={found.invitation.email}
      name={found.invitation.name}
      orgName={found.orgName}
      role={ROLE_LABELS[found.invitation.role]}
    />
  );
}
