'use client';

// What a reviewer needs to decide: the exact change to the host's package list, the
// closure diff of the would-be system (built on opening; the build is cached, so the
// approval reuses it), and the decisions: approve, edit & approve, deny, ask.
import { useEffect, useState, useTransition } from 'react';
import { actionError } from '@/components/requests/action-error';
import { ClosurePreview } from '@/components/requests/closure-preview';
import { textareaClass } from '@/components/requests/comment-thread';
import { PackageChange } from '@/components/requests/package-change';
import { Button } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { FormError } from '@/components/ui/form';
import type { ActionState } from '@/lib/api/action';
import { approveRequestAction, denyRequestAction, previewRequestAction } from '../actions';
import { EditAndApprove } from './edit-and-approve';
import type { TRequestDetail } from '@/lib/api/streams';

export type PackageLists = { before: string[]; after: string[] };

/** Starts (or finds) the preview build once the panel opens. */
function usePreviewBuild(id: string, wanted: boolean) {
  const [buildId, setBuildId] = useState<string | null>(null);
  const [error, setError] = useState<string>();
  const [attempt, setAttempt] = useState(0);
  // A new attempt starts without the last one's error: reset while rendering, when the inputs change.
  const key = `${id}/${wanted}/${attempt}`;
  const [started, setStarted] = useState(key);
  if (started !== key) {
    setStarted(key);
    if (wanted) setError(undefined);
  }
  useEffect(() => {
    if (!wanted) return;
    let current = true;
    void previewRequestAction(null, { id }).then((result) => {
      if (!current) return;
      if (result?.ok) setBuildId(result.data.buildId);
      else setError(actionError(result));
    });
    return () => {
      current = false;
    };
  }, [id, wanted, attempt]);
  return { buildId, error, retry: () => setAttempt((n) => n + 1) };
}

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section className="space-y-3">
      <h3 className="text-sm font-semibold text-slate-700 dark:text-slate-200">{title}</h3>
      {children}
    </section>
  );
}

type Props = {
  view: TRequestDetail;
  packages: PackageLists | null;
  onDecided: (view: TRequestDetail) => void;
  onComment: (body: string) => Promise<ActionState<unknown>>;
};

export function ReviewPanel({ view, packages, onDecided, onComment }: Props) {
  const isChange = view.kind === 'change';
  const preview = usePreviewBuild(view.id, !isChange);
  const [message, setMessage] = useState('');
  const [error, setError] = useState<string>();
  const [editing, setEditing] = useState(false);
  const [busy, start] = useTransition();
  const run = <R,>(fn: () => Promise<ActionState<R>>, after?: (data: R) => void) =>
    start(async () => {
      const result = await fn();
      setError(actionError(result));
      if (result?.ok) after?.(result.data);
    });
  const requester = view.requester.name || view.requester.email;

  return (
    <Card>
      <CardHeader title="Review" description={`Decide on ${requester}’s request. Approving writes a config version on their behalf, then builds and deploys it.`} />
      <div className="grid gap-6 px-5 py-5 lg:grid-cols-2">
        <Section title="The exact change">
          {isChange ? (
            <div className="space-y-2 text-sm">
              <p className="text-slate-600 dark:text-slate-300">Asked in words; there is nothing to build until someone writes it. Use “Edit & approve” to change the host’s module.</p>
              <blockquote className="whitespace-pre-wrap rounded-md bg-slate-50 px-3 py-2 ring-1 ring-slate-200 dark:bg-slate-950/50 dark:ring-slate-800">{view.text}</blockquote>
            </div>
          ) : packages ? (
            <PackageChange before={packages.before} after={packages.after} />
          ) : null}
        </Section>
        <Section title="Closure diff">
          {isChange ? (
            <p className="text-sm text-slate-500 dark:text-slate-400">Not available for a change in words.</p>
          ) : preview.buildId ? (
            <ClosurePreview buildId={preview.buildId} />
          ) : preview.error ? (
            <div className="space-y-2">
              <FormError message={`The preview could not start: ${preview.error}`} />
              <Button variant="secondary" size="sm" onClick={preview.retry}>
                Try again
              </Button>
            </div>
          ) : (
            <p className="text-sm text-slate-500 dark:text-slate-400">Starting the preview build…</p>
          )}
        </Section>
      </div>
      <div className="space-y-3 border-t border-slate-200 px-5 py-4 dark:border-slate-800">
        {editing ? (
          <EditAndApprove view={view} packages={packages} message={message} onCancel={() => setEditing(false)} onDecided={onDecided} />
        ) : (
          <>
            <label htmlFor="review-message" className="block text-sm font-medium text-slate-700 dark:text-slate-300">
              Message to {requester}
            </label>
            <textarea
              id="review-message"
              rows={3}
              className={textareaClass}
              placeholder="Optional when approving; required to deny or to ask a question"
              value={message}
              onChange={(e) => setMessage(e.target.value)}
              maxLength={2000}
            />
            <FormError message={error} />
            <div className="flex flex-wrap items-center gap-2">
              <Button
                disabled={busy || isChange}
                title={isChange ? 'A change in words needs its module written first: Edit & approve' : undefined}
                onClick={() => run(() => approveRequestAction(null, { id: view.id, ...(message.trim() ? { comment: message } : {}) }), onDecided)}
              >
                {busy ? 'Working…' : 'Approve'}
              </Button>
              <Button variant="secondary" disabled={busy} onClick={() => setEditing(true)}>
                Edit &amp; approve…
              </Button>
              <Button
                variant="secondary"
                disabled={busy}
                onClick={() =>
                  message.trim() ? run(() => onComment(message), () => setMessage('')) : setError('Write your question in the message box first')
                }
              >
                Ask a question
              </Button>
              <span className="flex-1" />
              <Button
                variant="danger"
                disabled={busy}
                onClick={() => run(() => denyRequestAction(null, { id: view.id, comment: message }), onDecided)}
              >
                Deny
              </Button>
            </div>
          </>
        )}
      </div>
    </Card>
  );
}
