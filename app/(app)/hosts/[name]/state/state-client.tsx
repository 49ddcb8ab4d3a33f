'use client';

// Restoring a snapshot: the dialog says what will happen before anything does, and the
// page (re-rendered on the server) follows the restore to its end.
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { formatBytes } from '@/components/builds/build-status';
import { formatTime } from '@/components/deployments/format';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/modal';
import { restoreSnapshotAction } from './actions';

type Props = {
  host: string;
  unit: string;
  /** describeUnit: the directory, or "PostgreSQL database app". */
  what: string;
  service: string | null;
  snapshot: { id: string; takenAt: string; size: number };
  /** Another restore on this host has not ended: the server would refuse a second one. */
  blocked: boolean;
};

export function RestoreButton({ host, unit, what, service, snapshot, blocked }: Props) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  return (
    // The dialog sits in a table cell: it must not inherit the cell's nowrap and right alignment.
    <span className="contents whitespace-normal text-left">
      <Button variant="secondary" size="sm" onClick={() => setOpen(true)} disabled={blocked} title={blocked ? 'A restore on this host is still under way' : undefined}>
        Restore
      </Button>
      {open ? (
        <ConfirmDialog
          title={`Restore ${unit} on ${host}?`}
          confirmLabel="Restore this snapshot"
          busyLabel="Asking the host…"
          run={() => restoreSnapshotAction(null, { host, snapshotId: snapshot.id })}
          onDone={() => {
            setOpen(false);
            router.refresh();
          }}
          onClose={() => setOpen(false)}
        >
          <p>
            <span className="font-medium text-slate-900 dark:text-slate-100">{what}</span> goes back to the snapshot taken {formatTime(snapshot.takenAt)} ({formatBytes(snapshot.size)}).
          </p>
          <ul className="list-disc space-y-1 pl-5">
            <li>The data there now is snapshotted first, so this restore can be undone from that snapshot.</li>
            <li>
              {service ? (
                <>
                  <code className="font-mono text-xs">{service}</code> is stopped before the restore and started again after it.
                </>
              ) : (
                'The unit names no service: nothing is stopped, so make sure nothing writes to it meanwhile.'
              )}
            </li>
            <li>Whatever was written after the snapshot was taken is replaced. The restore is recorded in the audit log.</li>
          </ul>
        </ConfirmDialog>
      ) : null}
    </span>
  );
}
