import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { Forbidden } from '@/components/shell/forbidden';
import { PageHeader } from '@/components/ui/card';
import { AppError } from '@/lib/api/errors';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { getDeployment } from '@/lib/deployments/queries';
import { LiveDeployment } from './live-deployment';

export const metadata: Metadata = { title: 'Deployment' };

export default async function DeploymentPage({ params }: { params: Promise<{ id: string }> }) {
  const caller = await pageCaller();
  if (!can(caller, 'fleet.read')) return <Forbidden what="Deployments" />;
  const { id } = await params;
  if (!/^[0-9a-f-]{36}$/.test(id)) notFound();
  const deployment = await getDeployment(caller, id).catch((error) => {
    if (error instanceof AppError && error.code === 'not_found') notFound();
    throw error;
  });
  return (
    <>
      <PageHeader title={`Deployment ${deployment.id.slice(0, 8)}`} description={`Started ${deployment.createdAt.slice(0, 19).replace('T', ' ')} UTC from ${deployment.source}`} />
      <LiveDeployment initial={deployment} />
    </>
  );
}
