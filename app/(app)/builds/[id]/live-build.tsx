'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { BuildStatusBadge, formatBytes } from '@/components/builds/build-status';
import { Card, CardHeader } from '@/components/ui/card';
import { useEventStream } from '@/components/ui/use-event-stream';
import { ZBuildStream, type TBuildStatusEvent as Status } from '@/lib/api/streams';

export function LiveBuild({ id, initial }: { id: string; initial: Status }) {
  const router = useRouter();
  const [state, setState] = useState(initial);
  const [log, setLog] = useState('');
  const logBox = useRef<HTMLPreElement>(null);
  const follow = useRef(true);

  useEventStream(
    `/api/v1/builds/${id}/events`,
    ZBuildStream,
    (e) => {
      if (e.event === 'log') setLog((prev) => prev + e.data.text);
      if (e.event !== 'status') return;
      const next = e.data;
      setState((prev) => {
        // The diff is rendered on the server: fetch it once the build finishes.
        if (prev.status !== next.status && (next.status === 'succeeded' || next.status === 'failed')) router.refresh();
        return next;
      });
    },
    // The server closes the stream when the build is finished; don't reconnect then.
    { closeOnError: () => true },
  );

  useEffect(() => {
    if (follow.current && logBox.current) logBox.current.scrollTop = logBox.current.scrollHeight;
  }, [log]);

  const { progress } = state;
  const builds = progress?.builds;
  const percent = builds && builds.expected > 0 ? Math.round((builds.done / builds.expected) * 100) : state.status === 'succeeded' ? 100 : 0;
  return (
    <div className="space-y-6">
      <Card>
        <div className="flex flex-wrap items-center gap-x-8 gap-y-3 px-5 py-4 text-sm">
          <span data-testid="build-status">
            <BuildStatusBadge status={state.status} />
          </span>
          <span>
            Stage: <strong>{progress?.stage ?? (state.status === 'queued' ? 'waiting for a worker' : '—')}</strong>
          </span>
          <span>
            Derivations: <strong>{builds ? `${builds.done} / ${builds.expected}` : '—'}</strong>
          </span>
          {progress?.copies && progress.copies.expected > 0 ? (
            <span>
              Uploaded: <strong>{`${progress.copies.done} / ${progress.copies.expected}`}</strong>
            </span>
          ) : null}
          <span>
            Closure: <strong>{formatBytes(state.closureSize)}</strong>
          </span>
        </div>
        <div className="h-1 bg-slate-100 dark:bg-slate-800">
          <div className="h-1 bg-brand-600 transition-all" style={{ width: `${percent}%` }} />
        </div>
        {state.storePath ? <p className="break-all px-5 py-3 font-mono text-xs" data-testid="build-store-path">{state.storePath}</p> : null}
        {state.error ? (
          <pre role="alert" data-testid="build-error" className="overflow-x-auto whitespace-pre-wrap border-t border-red-200 bg-red-50 px-5 py-3 font-mono text-xs text-red-800 dark:border-red-900 dark:bg-red-950/40 dark:text-red-300">
            {state.error}
          </pre>
        ) : null}
      </Card>
      <Card>
        <CardHeader title="Log" actions={<a href={`/api/v1/builds/${id}/log`} className="text-sm text-brand-600 hover:underline">Raw log</a>} />
        <pre
          ref={logBox}
          data-testid="build-log"
          onScroll={(e) => {
            const el = e.currentTarget;
            follow.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
          }}
          className="max-h-[32rem] overflow-auto bg-slate-950 p-4 font-mono text-xs leading-relaxed text-slate-200"
        >
          {log || 'Waiting for output…'}
        </pre>
      </Card>
    </div>
  );
}
