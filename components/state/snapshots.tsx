// A unit's snapshots in the host's snapshot store, newest first, and the restores asked
// of the host with how they went. Rendered on the server; the restore button comes in
// through `restore` so this file stays free of client code.
import Link from 'next/link';
import type { ReactNode } from 'react';
import { formatBytes } from '@/components/builds/build-status';
import { formatTime, shortSystem } from '@/components/deployments/format';
import { relativeTime } from '@/components/hosts/status-badge';
import { Badge } from '@/components/ui/card';
import { Table, TBody, Td, Th } from '@/components/ui/table';
import type { HostState } from '@/lib/state/snapshots';
import type { TRestoreState } from '@/lib/state/schemas';

type Snapshot = HostState['snapshots'][number];
type Restore = HostState['restores'][number];

const REASONS: Record<string, { label: string; tone: 'blue' | 'amber' | 'slate' } | undefined> = {
  'pre-switch': { label: 'before a switch', tone: 'blue' },
  'pre-restore': { label: 'before a restore', tone: 'amber' },
  manual: { label: 'manual', tone: 'slate' },
};

function When({ iso, now }: { iso: string; now: number }) {
  return (
    <span className="tabular-nums">
      {formatTime(iso)}
      <span className="block text-xs text-slate-400">{relativeTime(iso, now)}</span>
    </span>
  );
}

export function SnapshotTable({ snapshots, now, restore }: { snapshots: Snapshot[]; now: number; restore?: (s: Snapshot) => ReactNode }) {
  return (
    <Table>
      <thead>
        <tr>
          <Th>Taken</Th>
          <Th>Why</Th>
          <Th>Size</Th>
          <Th>System then</Th>
          <Th>Deployment</Th>
          {restore ? <Th /> : null}
        </tr>
      </thead>
      <TBody>
        {snapshots.map((s) => {
          const system = s.generation ? shortSystem(s.generation) : null;
          return (
            <tr key={s.id} data-testid={`snapshot-${s.id}`}>
              <Td>
                <When iso={s.takenAt} now={now} />
              </Td>
              <Td>
                <Badge tone={REASONS[s.reason]?.tone ?? 'slate'}>{REASONS[s.reason]?.label ?? s.reason}</Badge>
              </Td>
              <Td className="tabular-nums">
                {formatBytes(s.size)}
                <span className="block font-mono text-xs text-slate-400" title={`SHA-256 of the stored bytes: ${s.hash}`}>
                  {s.hash.slice(0, 12)}
                </span>
              </Td>
              <Td className="max-w-[14rem] truncate font-mono text-xs">
                {system ? (
                  <span title={s.generation ?? undefined}>
                    <span className="text-slate-400">{system.hash}</span> {system.name}
                  </span>
                ) : (
                  <span className="text-slate-400">—</span>
                )}
              </Td>
              <Td>
                {s.deploymentId ? (
                  <Link href={`/deployments/${s.deploymentId}`} className="font-mono text-xs text-brand-600 hover:underline dark:text-blue-400">
                    {s.deploymentId.slice(0, 8)}
                  </Link>
                ) : (
                  <span className="text-slate-400">—</span>
                )}
              </Td>
              {restore ? <Td className="text-right">{restore(s)}</Td> : null}
            </tr>
          );
        })}
      </TBody>
    </Table>
  );
}

const RESTORE_TONE: Record<TRestoreState, 'amber' | 'blue' | 'green' | 'red'> = { pending: 'amber', sent: 'amber', running: 'blue', succeeded: 'green', failed: 'red' };
const RESTORE_LABEL: Record<TRestoreState, string> = { pending: 'waiting for the host', sent: 'sent to the host', running: 'running', succeeded: 'succeeded', failed: 'failed' };

export const isOpenRestore = (status: TRestoreState) => status === 'pending' || status === 'sent' || status === 'running';

export function RestoreTable({ restores, snapshots, now }: { restores: Restore[]; snapshots: Snapshot[]; now: number }) {
  const taken = new Map(snapshots.map((s) => [s.id, s.takenAt]));
  return (
    <Table>
      <thead>
        <tr>
          <Th>Asked</Th>
          <Th>Restoring</Th>
          <Th>Status</Th>
          <Th>What happened</Th>
        </tr>
      </thead>
      <TBody>
        {restores.map((r) => {
          const takenAt = taken.get(r.snapshotId);
          return (
            <tr key={r.id} data-testid={`restore-${r.id}`} data-status={r.status}>
              <Td className="align-top">
                <When iso={r.createdAt} now={now} />
                <span className="block max-w-[16rem] truncate text-xs text-slate-500 dark:text-slate-400" title={r.requestedBy ?? undefined}>
                  by {r.requestedBy ?? 'a former member'}
                </span>
              </Td>
              <Td className="align-top">
                <span className="font-medium">{r.unit}</span>
                <span className="block text-xs text-slate-500 dark:text-slate-400">
                  {takenAt ? `snapshot of ${formatTime(takenAt)}` : `snapshot ${r.snapshotId.slice(0, 8)} (no longer on the host)`}
                </span>
              </Td>
              <Td className="align-top">
                <Badge tone={RESTORE_TONE[r.status]}>{RESTORE_LABEL[r.status]}</Badge>
              </Td>
              <Td className="w-full min-w-[12rem] whitespace-pre-wrap break-words align-top text-xs text-slate-600 dark:text-slate-300">
                {r.message || (isOpenRestore(r.status) ? '…' : '')}
                {r.finishedAt ? <span className="block text-slate-400">finished {formatTime(r.finishedAt)}</span> : null}
              </Td>
            </tr>
          );
        })}
      </TBody>
    </Table>
  );
}
