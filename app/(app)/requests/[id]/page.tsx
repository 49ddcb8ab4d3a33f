import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { describeRequest } from '@/components/requests/format';
import { PageHeader } from '@/components/ui/card';
import { AppError } from '@/lib/api/errors';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { getConfig } from '@/lib/hosts/configs';
import { findHost } from '@/lib/hosts/reach';
import { getRequest } from '@/lib/requests/queries';
import { packagesAfter } from '@/lib/requests/review';
import { LiveRequest } from './live-request';
import type { PackageLists } from './review-panel';

export const metadata: Metadata = { title: 'Request' };

export default async function RequestPage({ params }: { params: Promise<{ id: string }> }) {
  const { caller } = await pageCaller('authenticated');
  const { id } = await params;
  if (!/^[0-9a-f-]{36}$/.test(id)) notFound();
  // Someone else's request is "not found" for a requester, as in the API.
  const view = await getRequest(caller, id).catch((error) => {
    if (error instanceof AppError && error.code === 'not_found') notFound();
    throw error;
  });
  const canReview = can(caller, 'requests.review');
  // The exact change, from the host's latest package list: what approving now would write.
  let packages: PackageLists | null = null;
  if (canReview && view.status === 'submitted' && view.kind !== 'change') {
    const config = await getConfig(await findHost(caller, view.host));
    packages = { before: config.packages, after: packagesAfter(config.packages, view.kind, view.package ?? undefined) };
  }
  const isRequester = view.requester.email === caller.user.email;
  return (
    <>
      <PageHeader
        title={`${describeRequest(view)} on ${view.host}`}
        description={
          <Link href="/requests" className="hover:underline">
            ← {isRequester && !canReview ? 'My requests' : 'All requests'}
          </Link>
        }
      />
      <LiveRequest initial={view} packages={packages} me={{ email: caller.user.email, isRequester, canReview, canWithdraw: isRequester && can(caller, 'requests.create'), seesFleet: can(caller, 'fleet.read') }} />
    </>
  );
}
