'use client';

// The deployment page's live part: the whole view arrives over the deployment's event
// stream whenever anything changes, and every section renders from it.
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { DeploymentControls } from './deployment-controls';
import { DeploymentHeader } from '@/components/deployments/deployment-header';
import { DeploymentProgress } from '@/components/deployments/deployment-progress';
import { TargetWaves } from '@/components/deployments/target-waves';
import { useNow } from '@/components/deployments/use-now';
import { Card, CardHeader } from '@/components/ui/card';
import { useEventStream } from '@/components/ui/use-event-stream';
import { ZDeploymentStream } from '@/lib/api/streams';
import { isFinalDeployment, isInFlightPhase } from '@/lib/db/statuses';
import type { TDeploymentView } from '@/lib/deployments/schemas';

function useLiveDeployment(initial: TDeploymentView) {
  const [view, setView] = useState(initial);
  const final = useRef(isFinalDeployment(initial.status));
  useEventStream(
    `/api/v1/deployments/${initial.id}/events`,
    ZDeploymentStream,
    (e) => {
      if (e.event !== 'deployment') return;
      final.current = isFinalDeployment(e.data.status);
      setView(e.data);
    },
    // The server ends the stream once the deployment is final; before that a dropped
    // connection is worth the browser's own reconnect.
    { closeOnError: () => final.current },
  );
  return [view, setView] as const;
}

/**
 * The closure diffs are read on the server. A build that finished after the page was
 * rendered has one now: ask the server for the page again, once per build.
 */
function useRefreshForNewBuilds(view: TDeploymentView, loadedBuilds: string[]) {
  const router = useRouter();
  const asked = useRef(new Set(loadedBuilds));
  useEffect(() => {
    const fresh = view.targets.filter((t) => t.buildId && t.storePath && !asked.current.has(t.buildId));
    if (fresh.length === 0) return;
    for (const t of fresh) asked.current.add(t.buildId as string);
    router.refresh();
  }, [view, router]);
}

export function LiveDeployment({
  initial,
  strategySummary,
  canControl,
  loadedBuilds,
  changes,
}: {
  initial: TDeploymentView;
  /** Worded on the server: a deployment's strategy never changes. */
  strategySummary: string;
  canControl: boolean;
  loadedBuilds: string[];
  changes: ReactNode;
}) {
  const [view, setView] = useLiveDeployment(initial);
  useRefreshForNewBuilds(view, loadedBuilds);
  const ticking = !isFinalDeployment(view.status) || view.targets.some((t) => isInFlightPhase(t.phase));
  const now = useNow(ticking);
  return (
    <>
      <DeploymentHeader
        view={view}
        strategySummary={strategySummary}
        now={now}
        // The stream confirms within a second; until then the buttons follow what the action answered.
        controls={canControl ? <DeploymentControls view={view} onStatus={(status) => setView((v) => ({ ...v, status }))} /> : null}
      />
      <Card className="mb-6 p-5">
        <DeploymentProgress view={view} />
      </Card>
      {changes}
      <Card>
        <CardHeader title="Hosts" description="Canaries go first; each wave starts when the one before it has finished." />
        <TargetWaves targets={view.targets} now={now} canDecide={canControl} />
      </Card>
    </>
  );
}
