import type { Metadata } from 'next';
import Link from 'next/link';
import { BuildStatusBadge, formatBytes } from '@/components/builds/build-status';
import { Forbidden } from '@/components/shell/forbidden';
import { Card, EmptyState, PageHeader } from '@/components/ui/card';
import { Table, TBody, Td, Th } from '@/components/ui/table';
import { listBuilds } from '@/lib/builds/queries';
import { pageCaller } from '@/lib/auth/page';

export const metadata: Metadata = { title: 'Builds' };

export default async function BuildsPage() {
  const { caller, allowed } = await pageCaller('fleet.read');
  if (!allowed) return <Forbidden what="Builds" />;
  const builds = await listBuilds(caller, { limit: 100 });
  return (
    <>
      <PageHeader title="Builds" description="System closures built by the worker and pushed to the signed cache." />
      <Card>
        {builds.length === 0 ? (
          <EmptyState title="No builds yet">Open a host and press Build.</EmptyState>
        ) : (
          <Table>
            <thead>
              <tr>
                <Th>Build</Th>
                <Th>Host</Th>
                <Th>Status</Th>
                <Th>Config</Th>
                <Th>Closure</Th>
                <Th>Started (UTC)</Th>
                <Th>By</Th>
              </tr>
            </thead>
            <TBody>
              {builds.map((b) => (
                <tr key={b.id} data-testid={`build-row-${b.id}`}>
                  <Td className="font-mono text-xs">
                    <Link href={`/builds/${b.id}`} className="hover:underline">
                      {b.id.slice(0, 8)}
                    </Link>
                  </Td>
                  <Td>
                    <Link href={`/hosts/${b.host}`} className="hover:underline">
                      {b.host}
                    </Link>
                  </Td>
                  <Td>
                    <BuildStatusBadge status={b.status} />
                  </Td>
                  <Td>v{b.configVersion}</Td>
                  <Td>{formatBytes(b.closureSize)}</Td>
                  <Td className="tabular-nums text-slate-500">{b.createdAt.slice(0, 16).replace('T', ' ')}</Td>
                  <Td className="text-slate-500">{b.createdBy ?? '—'}</Td>
                </tr>
              ))}
            </TBody>
          </Table>
        )}
      </Card>
    </>
  );
}
