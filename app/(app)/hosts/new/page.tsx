import type { Metadata } from 'next';
import { Forbidden } from '@/components/shell/forbidden';
import { Card, PageHeader } from '@/components/ui/card';
import { pageCaller } from '@/lib/auth/page';
import { simulation } from '@/lib/hosts/simulation';
import { NewHostForm } from './new-host-form';

export const metadata: Metadata = { title: 'New host' };

export default async function NewHostPage() {
  const { allowed } = await pageCaller('hosts.write');
  if (!allowed) return <Forbidden what="Adding hosts" />;
  return (
    <>
      <PageHeader title="New host" description="Add a machine to the inventory. You get a one-time token its agent uses to enrol." />
      <Card className="max-w-2xl p-6">
        <NewHostForm simulation={simulation()} />
      </Card>
    </>
  );
}
