import type { Metadata } from 'next';
import Link from 'next/link';
import { PhaseBadge } from '@/components/deployments/phase-badge';
import { Forbidden } from '@/components/shell/forbidden';
import { Card, EmptyState, PageHeader } from '@/components/ui/card';
import { Table, TBody, Td, Th } from '@/components/ui/table';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { listDeployments } from '@/lib/deployments/queries';

export const metadata: Metadata = { title: 'Deployments' };

export default async function DeploymentsPage() {
  const caller = await pageCaller();
  if (!can(caller, 'fleet.read')) return <Forbidden what="Deployments" />;
  const deployments = await listDeployments(caller, 100);
  return (
    <>
      <PageHeader title="Deployments" description="What was sent to which hosts, and how it went." />
      <Card>
        {deployments.length === 0 ? (
          <EmptyState title="Nothing deployed yet">Build a host, then press Deploy on its page, or POST a deploy.json to /api/v1/deployments.</EmptyState>
        ) : (
          <Table>
            <thead>
              <tr>
                <Th>Deployment</Th>
                <Th>Status</Th>
                <Th>Hosts</Th>
                <Th>From</Th>
                <Th>Started (UTC)</Th>
                <Th>By</Th>
              </tr>
            </thead>
            <TBody>
              {deployments.map((d) => (
                <tr key={d.id}>
                  <Td className="font-mono text-xs">
                    <Link href={`/deployments/${d.id}`} className="hover:underline">
                      {d.id.slice(0, 8)}
                    </Link>
                  </Td>
                  <Td>
                    <PhaseBadge phase={d.status} />
                  </Td>
                  <Td>
                    {d.succeeded} / {d.targets} succeeded
                  </Td>
                  <Td className="text-slate-500">{d.source}</Td>
                  <Td className="tabular-nums text-slate-500">{d.createdAt.slice(0, 16).replace('T', ' ')}</Td>
                  <Td className="text-slate-500">{d.createdBy ?? '—'}</Td>
                </tr>
              ))}
            </TBody>
          </Table>
        )}
      </Card>
    </>
  );
}
