import type { Metadata } from 'next';
import { Badge, Card, CardHeader, EmptyState, PageHeader } from '@/components/ui/card';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { assignedHosts, fleetSummary } from '@/lib/hosts/summary';

export const metadata: Metadata = { title: 'Overview' };

function Stat({ label, value, tone }: { label: string; value: number; tone?: string }) {
  return (
    <Card className="px-5 py-4">
      <p className="text-sm text-slate-500 dark:text-slate-400">{label}</p>
      <p className={`mt-1 text-3xl font-semibold tabular-nums ${tone ?? ''}`}>{value}</p>
    </Card>
  );
}

export default async function OverviewPage() {
  const caller = await pageCaller();
  if (!can(caller, 'fleet.read')) {
    const mine = await assignedHosts(caller.org.id, caller.user.id);
    return (
      <>
        <PageHeader title="My machines" description="The machines assigned to you in this organisation." />
        <Card>
          {mine.length === 0 ? (
            <EmptyState title="No machines are assigned to you yet">Your IT team assigns machines to people; ask them if one is missing.</EmptyState>
          ) : (
            <ul className="divide-y divide-slate-100 dark:divide-slate-800">
              {mine.map((h) => (
                <li key={h.id} className="flex items-center justify-between px-5 py-3 text-sm">
                  <span className="font-medium">{h.name}</span>
                  {h.online ? <Badge tone="green">online</Badge> : <Badge>offline</Badge>}
                </li>
              ))}
            </ul>
          )}
        </Card>
      </>
    );
  }

  const s = await fleetSummary(caller.org.id);
  return (
    <>
      <PageHeader title="Fleet overview" description={`Health of every host in ${caller.org.name}.`} />
      <div className="grid grid-cols-2 gap-4 md:grid-cols-3 xl:grid-cols-6">
        <Stat label="Hosts" value={s.total} />
        <Stat label="Online" value={s.online} tone="text-emerald-600 dark:text-emerald-400" />
        <Stat label="Offline" value={s.offline} tone={s.offline ? 'text-red-600 dark:text-red-400' : ''} />
        <Stat label="Never seen" value={s.neverSeen} />
        <Stat label="Drifted" value={s.drifted} tone={s.drifted ? 'text-amber-600 dark:text-amber-400' : ''} />
        <Stat label="Needs reboot" value={s.needsReboot} />
      </div>
      {s.total === 0 ? (
        <Card className="mt-6">
          <CardHeader title="No hosts yet" />
          <EmptyState title="Your fleet is empty">
            Hosts appear here once they are added to the inventory and their agent enrols. Until then, invite your team under Members and create API
            tokens for automation.
          </EmptyState>
        </Card>
      ) : null}
    </>
  );
}
