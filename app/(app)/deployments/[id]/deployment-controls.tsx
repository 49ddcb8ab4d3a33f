'use client';

// Pause, Resume, Cancel and Roll back, each shown only in the statuses where the
// engine accepts it (lib/deployments/control.ts), so nobody is offered a button that
// can only answer "cannot". Cancel and Roll back ask first.
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { cancelDeploymentAction, pauseDeploymentAction, resumeDeploymentAction, rollbackDeploymentAction } from '@/app/(app)/deployments/actions';
import { ActionButton } from '@/components/ui/action-button';
import { Button } from '@/components/ui/button';
import type { TDeploymentView } from '@/lib/deployments/schemas';
import { ConfirmDialog } from '@/components/ui/modal';
import { isInFlightPhase, UNFINISHED_DEPLOYMENT_STATUSES, isOneOf } from '@/lib/db/statuses';

/** Hosts a rollback would take back: this deployment changed (or is changing) their system. */
export function rollbackCandidates(view: TDeploymentView) {
  return view.targets.filter((t) => (t.phase === 'succeeded' || isInFlightPhase(t.phase)) && t.previousSystem && t.previousSystem !== t.storePath);
}

export function availableControls(view: TDeploymentView) {
  return {
    pause: view.status === 'canary' || view.status === 'rolling',
    resume: view.status === 'paused',
    cancel: isOneOf(UNFINISHED_DEPLOYMENT_STATUSES)(view.status),
    rollback: view.status !== 'pending' && view.status !== 'rolled-back' && rollbackCandidates(view).length > 0,
  };
}

export function DeploymentControls({ view, onStatus }: { view: TDeploymentView; onStatus: (status: string) => void }) {
  const router = useRouter();
  const [asking, setAsking] = useState<'cancel' | 'rollback' | null>(null);
  const can = availableControls(view);
  const hosts = rollbackCandidates(view);
  const waiting = view.targets.filter((t) => t.phase === 'pending').length;
  return (
    <div className="flex flex-wrap items-start gap-2">
      {can.pause ? (
        <ActionButton variant="secondary" size="md" busyLabel="Pausing…" run={() => pauseDeploymentAction(null, { id: view.id })} onDone={(d) => onStatus(d.status)}>
          Pause
        </ActionButton>
      ) : null}
      {can.resume ? (
        <ActionButton variant="primary" size="md" busyLabel="Resuming…" run={() => resumeDeploymentAction(null, { id: view.id })} onDone={(d) => onStatus(d.status)}>
          Resume
        </ActionButton>
      ) : null}
      {can.cancel ? (
        <Button variant="secondary" onClick={() => setAsking('cancel')}>
          Cancel
        </Button>
      ) : null}
      {can.rollback ? (
        <Button variant="danger" onClick={() => setAsking('rollback')}>
          Roll back
        </Button>
      ) : null}
      {asking === 'cancel' ? (
        <ConfirmDialog
          title="Cancel this deployment?"
          confirmLabel="Cancel deployment"
          dismissLabel="Keep it running"
          busyLabel="Cancelling…"
          run={() => cancelDeploymentAction(null, { id: view.id })}
          onDone={(d) => {
            setAsking(null);
            onStatus(d.status);
          }}
          onClose={() => setAsking(null)}
        >
          <p>
            {waiting ? `${waiting} ${waiting === 1 ? 'host that has' : 'hosts that have'} not started will not be updated. ` : null}A host in the middle of activating is not
            confirmed, so its agent returns to its previous system by itself.
          </p>
          <p>Hosts that already succeeded keep the new system; roll back to return them.</p>
        </ConfirmDialog>
      ) : null}
      {asking === 'rollback' ? (
        <ConfirmDialog
          title="Roll back this deployment?"
          confirmLabel={`Roll back ${hosts.length} ${hosts.length === 1 ? 'host' : 'hosts'}`}
          dismissLabel="Don't roll back"
          busyLabel="Starting rollback…"
          run={() => rollbackDeploymentAction(null, { id: view.id })}
          onDone={(d) => router.push(`/deployments/${d.id}`)}
          onClose={() => setAsking(null)}
        >
          <p>
            A new deployment takes {hosts.length === 1 ? 'this host' : `these ${hosts.length} hosts`} back to the system {hosts.length === 1 ? 'it' : 'they'} ran before: no canaries,{' '}
            {String(view.strategy.maxInFlight)} at a time.
          </p>
          <p className="font-mono text-xs">{hosts.map((t) => t.host).join(', ')}</p>
          {waiting ? <p>{`${waiting} ${waiting === 1 ? 'host' : 'hosts'} still waiting will not be started.`}</p> : null}
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
