import type { Metadata } from 'next';
import Link from 'next/link';
import { formatBytes } from '@/components/builds/build-status';
import { HostTabs } from '@/components/hosts/host-tabs';
import { AutoRefresh } from '@/components/requests/auto-refresh';
import { isOpenRestore, RestoreTable, SnapshotTable } from '@/components/state/snapshots';
import { STATE_EXAMPLE, StateUnitsTable } from '@/components/state/state-units';
import { Card, CardHeader, EmptyState, PageHeader } from '@/components/ui/card';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { describeUnit } from '@/lib/state/schemas';
import { hostState } from '@/lib/state/snapshots';
import { hostPageGuard } from '../../host-page-guard';
import { RestoreButton } from './state-client';

export async function generateMetadata({ params }: { params: Promise<{ name: string }> }): Promise<Metadata> {
  return { title: `${(await params).name} · state` };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export default async function HostStatePage({ params }: { params: Promise<{ name: string }> }) {
  const { caller } = await pageCaller('authenticated');
  const { name } = await params;
  const loaded = await hostPageGuard(caller, name, async (host) => ({ state: await hostState(host), deployOnly: host.deployOnly }));
  if ('denied' in loaded) return loaded.denied;
  const { state, deployOnly } = loaded;
  const canRestore = can(caller, 'deployments.write');
  const now = Date.now();
  const restoring = state.restores.some((r) => isOpenRestore(r.status));
  // Snapshots of units the running system no longer declares stay restorable.
  const undeclared = [...new Set(state.snapshots.map((s) => s.unit))].filter((u) => !state.units.some((d) => d.name === u));
  const sections = [
    ...state.units.map((u) => ({ name: u.name, what: describeUnit(u), service: u.service ?? null })),
    ...undeclared.map((u) => ({ name: u, what: `${u} (no longer declared)`, service: null })),
  ];

  return (
    <>
      <PageHeader
        title={state.host}
        description={
          <span data-testid="state-summary">
            {plural(state.units.length, 'state unit')} declared · {formatBytes(state.storedBytes)} in {plural(state.snapshots.length, 'snapshot')} on the host
          </span>
        }
      />
      <HostTabs name={state.host} current="state" deployOnly={deployOnly} />
      {/* A restore runs on the host: follow it until it ends. */}
      <AutoRefresh active={restoring} everyMs={2000} />
      <div className="space-y-6">
        <Card>
          <CardHeader title="State units" description="Data on the host that the Nix store does not hold, as the running system declares it. The agent snapshots it before switches and can put a snapshot back." />
          {state.units.length ? (
            <StateUnitsTable units={state.units} />
          ) : (
            <EmptyState title="This host declares no state">
              <div className="mx-auto max-w-xl space-y-3 text-left">
                <p>
                  Declare directories and databases in the host module with <code className="font-mono text-xs">flotilla.state</code>. After the next deployment the agent snapshots them before every switch
                  and lists them here.
                </p>
                <pre className="overflow-x-auto rounded-md bg-slate-50 p-3 font-mono text-xs text-slate-800 ring-1 ring-inset ring-slate-200 dark:bg-slate-950/60 dark:text-slate-200 dark:ring-slate-800">
                  {STATE_EXAMPLE}
                </pre>
                {can(caller, 'hosts.write') ? (
                  <p>
                    <Link href={`/hosts/${state.host}/config`} className="font-medium text-brand-600 hover:underline dark:text-blue-400">
                      Edit the configuration →
                    </Link>
                  </p>
                ) : null}
              </div>
            </EmptyState>
          )}
        </Card>

        {sections.map((unit) => {
          const snapshots = state.snapshots.filter((s) => s.unit === unit.name);
          return (
            <Card key={unit.name}>
              <div data-testid={`snapshots-${unit.name}`}>
                <CardHeader title={`Snapshots of ${unit.name}`} description={`${unit.what} · ${plural(snapshots.length, 'snapshot')}, newest first`} />
                {snapshots.length ? (
                  <SnapshotTable
                    snapshots={snapshots}
                    now={now}
                    restore={
                      canRestore
                        ? (s) => <RestoreButton host={state.host} unit={unit.name} what={unit.what} service={unit.service} snapshot={s} blocked={restoring} />
                        : undefined
                    }
                  />
                ) : (
                  <EmptyState title="No snapshots yet">The agent takes one before the next switch that the unit’s snapshot policy covers.</EmptyState>
                )}
              </div>
            </Card>
          );
        })}

        {state.restores.length ? (
          <Card>
            <CardHeader title="Restores" description="The latest restores asked of this host. The agent snapshots the data it replaces first." />
            <RestoreTable restores={state.restores} snapshots={state.snapshots} now={now} />
          </Card>
        ) : null}
      </div>
    </>
  );
}
