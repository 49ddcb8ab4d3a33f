'use client';

// The closure diff of a request's would-be system: follows the preview build live
// (its event stream), then shows what the closure gains and loses.
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { BuildStatusBadge } from '@/components/builds/build-status';
import { ClosureDiffView } from '@/components/builds/closure-diff';
import { useEventStream } from '@/components/ui/use-event-stream';
import { ZBuildStream } from '@/lib/api/streams';
import type { TStoredDiff as StoredDiff } from '@/lib/db/json-types';

type BuildState = { status: string; error: string | null; progress: { stage?: string; builds?: { done: number; expected: number } } | null };

function useBuild(buildId: string) {
  const [build, setBuild] = useState<BuildState>({ status: 'queued', error: null, progress: null });
  const [diff, setDiff] = useState<StoredDiff>(null);
  const [diffError, setDiffError] = useState<string>();
  useEventStream(
    `/api/v1/builds/${buildId}/events`,
    ZBuildStream,
    (e) => {
      if (e.event === 'status') setBuild(e.data);
    },
    // The server ends the stream when the build is finished; don't reconnect then.
    { closeOnError: () => true },
  );
  useEffect(() => {
    if (build.status !== 'succeeded') return;
    const controller = new AbortController();
    fetch(`/api/v1/builds/${buildId}`, { signal: controller.signal })
      .then(async (res) => {
        const body = (await res.json()) as { diff?: StoredDiff; error?: { message: string } };
        if (!res.ok) throw new Error(body.error?.message ?? res.statusText);
        setDiff(body.diff ?? null);
      })
      .catch((e: Error) => {
        if (!controller.signal.aborted) setDiffError(e.message);
      });
    return () => controller.abort();
  }, [buildId, build.status]);
  return { build, diff, diffError };
}

export function ClosurePreview({ buildId }: { buildId: string }) {
  const { build, diff, diffError } = useBuild(buildId);
  const counts = build.progress?.builds;
  const percent = counts && counts.expected > 0 ? Math.round((counts.done / counts.expected) * 100) : build.status === 'succeeded' ? 100 : 5;
  const shown = diff?.againstCurrent ?? diff?.againstPrevious ?? null;
  return (
    <div className="space-y-3" data-testid="closure-preview" data-build-status={build.status}>
      <div className="flex flex-wrap items-center gap-x-4 gap-y-1 text-sm">
        <span className="inline-flex items-center gap-1.5 text-slate-500 dark:text-slate-400">
          Preview build <BuildStatusBadge status={build.status} />
        </span>
        {build.status !== 'succeeded' && build.status !== 'failed' ? (
          <span className="text-slate-600 dark:text-slate-300">
            Building the would-be system
            {build.progress?.stage ? ` · ${build.progress.stage}` : ''}
            {counts ? ` · ${counts.done} / ${counts.expected} derivations` : ''}
          </span>
        ) : null}
        <Link href={`/builds/${buildId}`} className="ml-auto text-sm text-brand-600 hover:underline dark:text-blue-400">
          Open build
        </Link>
      </div>
      {build.status !== 'succeeded' && build.status !== 'failed' ? (
        <div className="h-1 overflow-hidden rounded bg-slate-100 dark:bg-slate-800">
          <div className="h-1 bg-brand-600 transition-all" style={{ width: `${percent}%` }} />
        </div>
      ) : null}
      {build.status === 'failed' ? (
        <pre role="alert" className="overflow-x-auto whitespace-pre-wrap rounded-md bg-red-50 px-3 py-2 font-mono text-xs text-red-800 ring-1 ring-red-200 dark:bg-red-950/40 dark:text-red-300 dark:ring-red-900">
          {build.error ?? 'The build failed; its log says why.'}
        </pre>
      ) : null}
      {diffError ? <p className="text-sm text-red-600 dark:text-red-400">{diffError}</p> : null}
      {shown ? <ClosureDiffView diff={shown} title={diff?.againstCurrent ? 'Against what the machine runs' : 'Against the previous build'} /> : null}
      {build.status === 'succeeded' && diff !== null && !shown ? <p className="text-sm text-slate-500">Nothing to compare with yet: this is the machine’s first build.</p> : null}
    </div>
  );
}
