import type { Metadata } from 'next';
import Link from 'next/link';
import { BuildButton } from './build-button';
import { DeployButton } from './deploy-button';
import { BuildStatusBadge } from '@/components/builds/build-status';
import { formatTime } from '@/components/deployments/format';
import { PhaseBadge } from '@/components/deployments/phase-badge';
import { GenerationTimeline } from '@/components/hosts/generation-timeline';
import { HostMetricsCharts } from '@/components/hosts/host-metrics';
import { LiveHostStatus } from '@/components/hosts/live-host-status';
import { HostTabs } from '@/components/hosts/host-tabs';
import { Badge, Card, CardHeader, EmptyState, PageHeader } from '@/components/ui/card';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { hostDetail } from '@/lib/hosts/detail';
import { simulation } from '@/lib/hosts/simulation';
import { hostActivity, METRICS_DAYS } from '@/lib/hosts/timeline';
import { hostPageGuard } from '../host-page-guard';
import { EnrollmentPanel, HostSettingsForm, RetireHost } from './host-client';
import { FailedUnits, RecentRequests } from './host-health';

export async function generateMetadata({ params }: { params: Promise<{ name: string }> }): Promise<Metadata> {
  return { title: (await params).name };
}

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="grid grid-cols-3 gap-3 py-2 text-sm">
      <dt className="text-slate-500">{label}</dt>
      <dd className="col-span-2 break-all">{children}</dd>
    </div>
  );
}

export default async function HostPage({ params }: { params: Promise<{ name: string }> }) {
  const { caller } = await pageCaller('authenticated');
  const { name } = await params;
  const loaded = await hostPageGuard(caller, name, (host) => Promise.all([hostDetail(caller, host), hostActivity(caller, host)]));
  if ('denied' in loaded) return loaded.denied;
  const [host, activity] = loaded;
  const write = can(caller, 'hosts.write');
  const fleet = can(caller, 'fleet.read');
  return (
    <>
      <PageHeader
        actions={
          <span className="flex items-start gap-2">
            {can(caller, 'deployments.write') && host.currentBuild?.storePath && host.currentBuild.storePath !== host.currentSystem ? (
              <DeployButton host={host.name} storePath={host.currentBuild.storePath} />
            ) : null}
            {can(caller, 'builds.run') && !host.deployOnly ? <BuildButton host={host.name} /> : null}
          </span>
        }
        title={host.name}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <LiveHostStatus host={host.name} initial={{ online: host.online, lastSeen: host.lastSeen }} />
            {host.deployOnly ? <Badge tone="blue">Deploy-only</Badge> : null}
          </span>
        }
      />
      <HostTabs name={host.name} current="overview" deployOnly={host.deployOnly} />
      <div className="grid gap-6 lg:grid-cols-2">
        <Card>
          <CardHeader title="System" />
          <dl className="divide-y divide-slate-100 px-5 py-2 dark:divide-slate-800">
            {host.deployOnly ? (
              <Row label="Config">none here: CI builds its systems, pushes them to the cache and deploys them with deploy.json</Row>
            ) : (
              <Row label="Config version">
                <Link href={`/hosts/${host.name}/config`} className="text-brand-600 hover:underline">
                  v{host.configVersion}
                </Link>
              </Row>
            )}
            <Row label="Built system">
              {host.deployOnly ? (
                'never built here (deploy-only)'
              ) : host.currentBuild ? (
                <Link href={`/builds/${host.currentBuild.id}`} className="text-xs text-brand-600 hover:underline" data-testid="current-build">
                  {host.currentBuild.storePath} (config v{host.currentBuild.configVersion})
                </Link>
              ) : (
                'not built yet'
              )}
            </Row>
            <Row label="Current system">{host.currentSystem ? <code className="text-xs">{host.currentSystem}</code> : '—'}</Row>
            <Row label="Desired system">{host.desiredSystem ? <code className="text-xs">{host.desiredSystem}</code> : '—'}</Row>
            <Row label="Booted system">{host.bootedSystem ? <code className="text-xs">{host.bootedSystem}</code> : '—'}</Row>
            <Row label="NixOS">{host.nixosVersion ?? '—'}</Row>
            <Row label="Agent">{host.agentVersion ? `${host.agentVersion}, enrolled ${host.enrolledAt?.slice(0, 10)}` : 'not enrolled'}</Row>
            <Row label="Added">{host.createdAt.slice(0, 10)}</Row>
          </dl>
        </Card>
        <Card>
          <CardHeader title="Recent builds" />
          {host.recentBuilds.length === 0 ? (
            host.deployOnly ? (
              <EmptyState title="Deploy-only">
                Its systems are built outside Flotilla: <code>nix copy</code> or <code>flotilla push</code> them to the cache with a token that has <code>cache.write</code>, then deploy
                them with deploy.json (see docs/cachix-deploy.md).
              </EmptyState>
            ) : (
              <EmptyState title="Never built">Build turns the current config into a signed closure in the cache.</EmptyState>
            )
          ) : (
            <ul className="divide-y divide-slate-100 dark:divide-slate-800">
              {host.recentBuilds.map((b) => (
                <li key={b.id} className="flex items-center justify-between px-5 py-2.5 text-sm">
                  <Link href={`/builds/${b.id}`} className="font-mono text-xs hover:underline">
                    {b.id.slice(0, 8)} · config v{b.configVersion}
                  </Link>
                  <span className="flex items-center gap-2 text-xs text-slate-500">
                    {b.createdAt.slice(0, 16).replace('T', ' ')} <BuildStatusBadge status={b.status} />
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card className="lg:col-span-2">
          <CardHeader title="Vitals" description={`Reported by the agent, over the last ${METRICS_DAYS} days (hourly, then the samples of the current hour).`} />
          <HostMetricsCharts samples={activity.samples} days={METRICS_DAYS} />
        </Card>
        <Card>
          <CardHeader title="Failed units" description="systemd units in the failed state, from the agent's last heartbeat." />
          <FailedUnits health={host.health} />
        </Card>
        <Card>
          <CardHeader title="Recent requests" description={fleet ? 'Software requested for this host.' : 'Your requests for this host.'} />
          <RecentRequests requests={activity.recentRequests} />
        </Card>
        <Card className="lg:col-span-2">
          <CardHeader title="Generations" description="Each system deployed to this host, newest first, and the packages that changed against the one before." />
          <GenerationTimeline generations={activity.generations} links={fleet} />
        </Card>
        <Card>
          <CardHeader title="Shared modules" description="Applied because of this host's tags." />
          {host.modules.length === 0 ? (
            <EmptyState title="No shared module applies">Modules apply to hosts carrying one of their tags.</EmptyState>
          ) : (
            <ul className="divide-y divide-slate-100 dark:divide-slate-800">
              {host.modules.map((m) => (
                <li key={m.name} className="flex items-center justify-between px-5 py-3 text-sm">
                  <Link href={`/modules/${m.name}`} className="font-medium hover:underline">
                    {m.name}
                  </Link>
                  <span className="flex gap-1">
                    {m.tags.filter((t) => host.tags.includes(t)).map((t) => (
                      <Badge key={t}>{t}</Badge>
                    ))}
                    <Badge tone="blue">v{m.version}</Badge>
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card>
          <CardHeader title="Recent activations" description="Deployments to this host and what its agent reported." />
          {host.recentDeployments.length === 0 ? (
            <EmptyState title="Nothing deployed yet" />
          ) : (
            <ul className="divide-y divide-slate-100 dark:divide-slate-800" data-testid="activations">
              {host.recentDeployments.map((d) => (
                <li key={d.id} className="px-5 py-3 text-sm">
                  <div className="flex items-center justify-between gap-3">
                    <code className="truncate text-xs">{d.storePath}</code>
                    <PhaseBadge phase={d.phase} />
                  </div>
                  <p className="mt-0.5 text-xs text-slate-500 dark:text-slate-400">
                    {fleet ? (
                      <Link href={`/deployments/${d.id}`} className="text-brand-600 hover:underline">
                        Deployment {d.id.slice(0, 8)}
                      </Link>
                    ) : (
                      'Deployment'
                    )}{' '}
                    · {formatTime(d.createdAt)}
                  </p>
                  {d.rollbackReason || d.error ? <p className="mt-1 text-xs text-red-700 dark:text-red-400">{(d.rollbackReason ?? d.error ?? '').split('\n')[0]}</p> : null}
                  {d.log ? (
                    <details className="mt-1">
                      <summary className="cursor-pointer text-xs text-slate-500">Agent log</summary>
                      <pre className="mt-1 max-h-48 overflow-auto rounded bg-slate-950 p-2 font-mono text-[11px] text-slate-200">{d.log}</pre>
                    </details>
                  ) : null}
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card>
          <CardHeader title="Tags and people" />
          <div className="p-5">
            <HostSettingsForm host={host.name} tags={host.tags} assignees={host.assignees} editable={write} />
          </div>
        </Card>
        <Card>
          <CardHeader title="Enrolment" description="The agent trades a one-time token for its own credential." />
          <div className="p-5">
            <EnrollmentPanel host={host.name} enrolledAt={host.enrolledAt} pending={host.enrollToken} editable={write} simulation={write ? simulation() : null} />
          </div>
        </Card>
      </div>
      {write ? (
        <div className="mt-8">
          <RetireHost host={host.name} />
        </div>
      ) : null}
    </>
  );
}
