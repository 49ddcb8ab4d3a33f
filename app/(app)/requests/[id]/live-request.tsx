'use client';

// A request as it moves: the stepper, the outcome, the thread and, for reviewers while
// it waits, the review. It follows /api/v1/requests/:id/events, so the requester who
// opened it before the approval sees it go live without reloading.
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useRef, useState } from 'react';
import { CommentThread } from '@/components/requests/comment-thread';
import { formatTime, phaseLabel } from '@/components/requests/format';
import { RequestStatusBadge } from '@/components/requests/request-status-badge';
import { StatusStepper } from '@/components/requests/status-stepper';
import { ActionButton } from '@/components/ui/action-button';
import { Card, CardHeader } from '@/components/ui/card';
import { useEventStream } from '@/components/ui/use-event-stream';
import { ZRequestStream, type TRequestDetail } from '@/lib/api/streams';
import { isFinalRequest } from '@/lib/db/statuses';
import { commentOnRequestAction, withdrawRequestAction } from '../actions';
import { ReviewPanel, type PackageLists } from './review-panel';

type Me = { email: string; isRequester: boolean; canReview: boolean; canWithdraw: boolean; seesFleet: boolean };

/** The request as the server last said, from its event stream or from an action's answer, whichever is newer. */
function useLiveRequest(initial: TRequestDetail) {
  const [view, setView] = useState(initial);
  const status = useRef(initial.status);
  // For the stream's handlers: the status as last rendered (refs are written after render, not during it).
  useEffect(() => {
    status.current = view.status;
  });
  const apply = useCallback((next: TRequestDetail) => setView((prev) => (next.updatedAt >= prev.updatedAt ? next : prev)), []);
  // A request that was final when the page was rendered has nothing to follow.
  useEventStream(
    isFinalRequest(initial.status) ? null : `/api/v1/requests/${initial.id}/events`,
    ZRequestStream,
    (e) => {
      if (e.event === 'request') apply(e.data);
    },
    // The server ends the stream once the request is final; otherwise let the browser reconnect.
    { closeOnError: () => isFinalRequest(status.current) },
  );
  return [view, apply] as const;
}

function Outcome({ view, me }: { view: TRequestDetail; me: Me }) {
  const who = view.autoApproved ? 'the organisation’s package policy' : (view.reviewer ?? 'IT');
  switch (view.status) {
    case 'submitted':
      return <p>{me.isRequester ? 'Waiting for IT to review it. You will be notified when it is decided.' : 'Waiting for a reviewer.'}</p>;
    case 'approved':
    case 'building':
      return <p>Approved by {who}. The new system for {view.host} is being built.</p>;
    case 'deploying':
      return (
        <p>
          Built. {view.host} is being updated{view.progress.phase ? `: ${phaseLabel(view.progress.phase)}…` : '…'}
        </p>
      );
    case 'live':
      return (
        <p>
          <span className="font-medium text-emerald-700 dark:text-emerald-400">Live on {view.host}</span>: approved by {who}, the machine now runs the new configuration.{' '}
          {me.isRequester ? (
            <Link href="/my-machines" className="text-brand-600 hover:underline dark:text-blue-400">
              See it on My machines
            </Link>
          ) : null}
        </p>
      );
    case 'failed':
      return (
        <p role="alert" className="text-red-700 dark:text-red-400" data-testid="request-failure">
          It could not be deployed: {view.failure ?? 'no reason was recorded'}
        </p>
      );
    case 'denied':
      return (
        <p data-testid="request-denial">
          Denied by {view.reviewer ?? 'IT'}
          {view.decisionComment ? (
            <>
              : <span className="font-medium">“{view.decisionComment}”</span>
            </>
          ) : null}
        </p>
      );
    case 'withdrawn':
      return <p>Withdrawn by the requester.</p>;
  }
}

function Details({ view }: { view: TRequestDetail }) {
  return (
    <dl className="grid gap-x-8 gap-y-3 border-t border-slate-200 px-5 py-4 text-sm sm:grid-cols-[10rem_1fr] dark:border-slate-800">
      <dt className="text-slate-500 dark:text-slate-400">What</dt>
      <dd data-testid="request-what">
        {view.kind === 'change' ? (
          <span className="block whitespace-pre-wrap">{view.text}</span>
        ) : (
          <>
            {view.kind === 'install' ? 'Install' : 'Remove'} <span className="font-mono font-medium">{view.package}</span>
          </>
        )}
      </dd>
      <dt className="text-slate-500 dark:text-slate-400">Machine</dt>
      <dd className="font-medium">{view.host}</dd>
      <dt className="text-slate-500 dark:text-slate-400">Asked by</dt>
      <dd>
        {view.requester.name || view.requester.email} <span className="text-slate-500 dark:text-slate-400">({view.requester.email}), {formatTime(view.createdAt)}</span>
      </dd>
      <dt className="text-slate-500 dark:text-slate-400">Reason</dt>
      <dd className="whitespace-pre-wrap">{view.reason}</dd>
    </dl>
  );
}

function StaffLinks({ view }: { view: TRequestDetail }) {
  if (!view.buildId && !view.deploymentId && view.configVersion === null) return null;
  return (
    <p className="flex flex-wrap gap-x-4 gap-y-1 text-sm">
      {view.configVersion !== null ? (
        <Link href={`/hosts/${view.host}/history`} className="text-brand-600 hover:underline dark:text-blue-400">
          Config version {view.configVersion}
        </Link>
      ) : null}
      {view.buildId ? (
        <Link href={`/builds/${view.buildId}`} className="text-brand-600 hover:underline dark:text-blue-400">
          Build
        </Link>
      ) : null}
      {view.deploymentId ? (
        <Link href={`/deployments/${view.deploymentId}`} className="text-brand-600 hover:underline dark:text-blue-400">
          Deployment{view.progress.deployment ? ` (${view.progress.deployment})` : ''}
        </Link>
      ) : null}
    </p>
  );
}

export function LiveRequest({ initial, me, packages }: { initial: TRequestDetail; me: Me; packages: PackageLists | null }) {
  const [view, apply] = useLiveRequest(initial);
  const router = useRouter();
  const reviewing = me.canReview && view.status === 'submitted';
  const post = async (body: string) => {
    const result = await commentOnRequestAction(null, { id: view.id, body });
    if (result?.ok) apply(result.data);
    return result;
  };
  return (
    <div className="space-y-6">
      <Card>
        <div className="space-y-5 px-5 py-5">
          <div className="flex flex-wrap items-center justify-between gap-3">
            <span data-testid="request-status" data-status={view.status}>
              <RequestStatusBadge status={view.status} />
            </span>
            {me.canWithdraw && view.status === 'submitted' ? (
              <ActionButton
                variant="secondary"
                confirm="Withdraw this request? IT will not review it."
                busyLabel="Withdrawing…"
                run={() => withdrawRequestAction(null, { id: view.id })}
                onDone={(data) => {
                  apply(data);
                  router.refresh();
                }}
              >
                Withdraw request
              </ActionButton>
            ) : null}
          </div>
          <StatusStepper status={view.status} phase={view.status === 'deploying' ? phaseLabel(view.progress.phase) : null} />
          <div className="space-y-2 text-sm text-slate-700 dark:text-slate-300">
            <Outcome view={view} me={me} />
            {me.seesFleet ? <StaffLinks view={view} /> : null}
          </div>
        </div>
        <Details view={view} />
      </Card>

      {reviewing ? <ReviewPanel view={view} packages={packages} onDecided={apply} onComment={post} /> : null}

      <Card>
        <CardHeader title="Conversation" description={reviewing ? 'Questions to the requester are sent from the review above.' : undefined} />
        <div className="px-5 py-4">
          <CommentThread
            comments={view.comments}
            requesterEmail={view.requester.email}
            myEmail={me.email}
            onPost={!reviewing && (me.isRequester || me.canReview) ? post : undefined}
          />
        </div>
      </Card>
    </div>
  );
}
