'use client';

import Link from 'next/link';
import { useEffect, useState } from 'react';
import type { z } from 'zod';
import { PhaseBadge } from '@/components/deployments/phase-badge';
import { Card, CardHeader } from '@/components/ui/card';
import { Table, TBody, Td, Th } from '@/components/ui/table';
import type { ZDeploymentView } from '@/lib/deployments/schemas';

type View = z.infer<typeof ZDeploymentView>;

function duration(from: string | null, to: string | null) {
  if (!from) return '—';
  const ms = (to ? new Date(to).getTime() : Date.now()) - new Date(from).getTime();
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function LiveDeployment({ initial }: { initial: View }) {
  const [view, setView] = useState(initial);
  useEffect(() => {
    const source = new EventSource(`/api/v1/deployments/${initial.id}/events`);
    source.addEventListener('deployment', (e) => setView(JSON.parse((e as MessageEvent).data) as View));
    source.onerror = () => source.close();
    return () => source.close();
  }, [initial.id]);
  return (
    <Card>
      <CardHeader title="Hosts" actions={<span data-testid="deployment-status"><PhaseBadge phase={view.status} /></span>} />
      <Table>
        <thead>
          <tr>
            <Th>Host</Th>
            <Th>Phase</Th>
            <Th>System</Th>
            <Th>Took</Th>
            <Th>Why</Th>
          </tr>
        </thead>
        <TBody>
          {view.targets.map((t) => (
            <tr key={t.id} data-testid={`target-${t.host}`}>
              <Td className="font-medium">
                <Link href={`/hosts/${t.host}`} className="hover:underline">
                  {t.host}
                </Link>
              </Td>
              <Td>
                <PhaseBadge phase={t.phase} />
              </Td>
              <Td className="max-w-xs truncate font-mono text-xs">{t.storePath}</Td>
              <Td className="tabular-nums text-slate-500">{duration(t.sentAt, t.finishedAt)}</Td>
              <Td className="max-w-md whitespace-normal text-xs text-red-700 dark:text-red-400">{(t.rollbackReason ?? t.error ?? '').split('\n')[0]}</Td>
            </tr>
          ))}
        </TBody>
      </Table>
    </Card>
  );
}
