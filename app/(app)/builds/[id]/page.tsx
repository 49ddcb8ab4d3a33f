import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { DeployButton } from '@/app/(app)/hosts/[name]/deploy-button';
import { ClosureDiffView } from '@/components/builds/closure-diff';
import { Card, CardHeader, PageHeader } from '@/components/ui/card';
import { AppError } from '@/lib/api/errors';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { getBuild } from '@/lib/builds/queries';
import { LiveBuild } from './live-build';

export const metadata: Metadata = { title: 'Build' };


export default async function BuildPage({ params }: { params: Promise<{ id: string }> }) {
  const { caller } = await pageCaller('authenticated');
  const { id } = await params;
  if (!/^[0-9a-f-]{36}$/.test(id)) notFound();
  const build = await getBuild(caller, id).catch((error) => {
    if (error instanceof AppError && (error.code === 'not_found' || error.code === 'forbidden')) notFound();
    throw error;
  });
  const { diff } = build;
  return (
    <>
      <PageHeader
        // LiveBuild refreshes this page when the build ends, so Deploy appears once there is something to deploy.
        actions={build.status === 'succeeded' && build.storePath && can(caller, 'deployments.write') ? <DeployButton host={build.host} storePath={build.storePath} variant="primary" /> : null}
        title={`Build ${build.id.slice(0, 8)}`}
        description={
          <>
            <Link href={`/hosts/${build.host}`} className="text-brand-600 hover:underline">
              {build.host}
            </Link>{' '}
            config v{build.configVersion}, requested by {build.createdBy ?? 'unknown'} at {build.createdAt.slice(0, 19).replace('T', ' ')} UTC
          </>
        }
      />
      <LiveBuild id={build.id} initial={{ status: build.status, progress: build.progress, error: build.error, storePath: build.storePath, closureSize: build.closureSize }} />
      {diff?.againstCurrent || diff?.againstPrevious ? (
        <Card className="mt-6">
          <CardHeader title="Closure diff" />
          <div className="grid gap-6 p-5 md:grid-cols-2">
            {diff.againstCurrent ? <ClosureDiffView diff={diff.againstCurrent} title="Against what the host runs" /> : null}
            {diff.againstPrevious ? <ClosureDiffView diff={diff.againstPrevious} title="Against the previous build" /> : null}
          </div>
        </Card>
      ) : null}
    </>
  );
}
