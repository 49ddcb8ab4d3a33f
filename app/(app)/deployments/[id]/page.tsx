import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { ClosureChanges, type SystemChange } from '@/components/deployments/closure-changes';
import { describeStrategy } from '@/components/deployments/strategy-summary';
import { Forbidden } from '@/components/shell/forbidden';
import { AppError } from '@/lib/api/errors';
import { can, type Caller } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { storedDiffs } from '@/lib/builds/queries';
import { getDeployment } from '@/lib/deployments/queries';
import type { TDeploymentView } from '@/lib/deployments/schemas';
import { LiveDeployment } from './live-deployment';

export const metadata: Metadata = { title: 'Deployment' };

/** One entry per distinct built system deployed, with its build's stored closure diff. */
async function systemChanges(caller: Caller, view: TDeploymentView): Promise<{ systems: SystemChange[]; loadedBuilds: string[] }> {
  const byBuild = new Map<string, { storePath: string; hosts: string[] }>();
  for (const t of view.targets) {
    if (!t.buildId || !t.storePath) continue;
    const entry = byBuild.get(t.buildId) ?? { storePath: t.storePath, hosts: [] };
    entry.hosts.push(t.host);
    byBuild.set(t.buildId, entry);
  }
  // One query for every build's diff; a build pruned since leaves the deployment readable, just without its diff.
  const diffs = await storedDiffs(caller, [...byBuild.keys()]);
  const systems = [...byBuild].map(([buildId, { storePath, hosts }]): SystemChange => {
    const diff = diffs.get(buildId) ?? null;
    return {
      storePath,
      buildId,
      hosts,
      diff: diff?.againstCurrent ?? diff?.againstPrevious ?? null,
      against: diff?.againstCurrent ? 'running' : diff?.againstPrevious ? 'previous' : null,
    };
  });
  return { systems: systems.sort((a, b) => (a.hosts[0] ?? '').localeCompare(b.hosts[0] ?? '')), loadedBuilds: [...byBuild.keys()] };
}

export default async function DeploymentPage({ params }: { params: Promise<{ id: string }> }) {
  const { caller, allowed } = await pageCaller('fleet.read');
  if (!allowed) return <Forbidden what="Deployments" />;
  const { id } = await params;
  if (!/^[0-9a-f-]{36}$/.test(id)) notFound();
  const deployment = await getDeployment(caller, id).catch((error) => {
    if (error instanceof AppError && error.code === 'not_found') notFound();
    throw error;
  });
  const { systems, loadedBuilds } = await systemChanges(caller, deployment);
  return (
    // Keyed by id: following a rollback link starts a fresh live view, not the old one's state.
    <LiveDeployment
      key={deployment.id}
      initial={deployment}
      strategySummary={describeStrategy(deployment.strategy).join(' · ')}
      canControl={can(caller, 'deployments.write')} loadedBuilds={loadedBuilds} changes={<ClosureChanges systems={systems} />} />
  );
}
