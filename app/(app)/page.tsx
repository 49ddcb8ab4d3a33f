import type { Metadata } from 'next';
import Link from 'next/link';
import { OverviewRequestsCard } from '@/components/requests/request-stats';
import { Card, CardHeader, EmptyState, PageHeader } from '@/components/ui/card';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { fleetCounts } from '@/lib/health/overview';
import { MyMachinesView } from './my-machines/my-machines-view';

export const metadata: Metadata = { title: 'Overview' };

function Stat({ label, value, tone, href }: { label: string; value: number; tone?: string; href: string }) {
  return (
    <Link href={href} className="block rounded-lg transition hover:ring-2 hover:ring-brand-500/40">
      <Card className="px-5 py-4">
        <p className="text-sm text-slate-500 dark:text-slate-400">{label}</p>
        <p className={`mt-1 text-3xl font-semibold tabular-nums ${tone ?? ''}`}>{value}</p>
      </Card>
    </Link>
  );
}

export default async function OverviewPage() {
  const caller = await pageCaller();
  // Requesters see no fleet: their home is their own machines.
  if (!can(caller, 'fleet.read')) return <MyMachinesView caller={caller} />;

  const s = await fleetCounts(caller.org.id);
  return (
    <>
      <PageHeader title="Fleet overview" description={`Health of every host in ${caller.org.name}.`} />
      <div className="grid grid-cols-2 gap-4 md:grid-cols-3 xl:grid-cols-6">
        <Stat label="Hosts" value={s.total} href="/hosts" />
        <Stat label="Online" value={s.online} tone="text-emerald-600 dark:text-emerald-400" href="/hosts?status=online" />
        <Stat label="Offline" value={s.offline} tone={s.offline ? 'text-red-600 dark:text-red-400' : ''} href="/hosts?status=offline" />
        <Stat label="Never seen" value={s.neverSeen} href="/hosts?status=never-seen" />
        <Stat label="Drifted" value={s.drifted} tone={s.drifted ? 'text-amber-600 dark:text-amber-400' : ''} href="/hosts?status=drifted" />
        <Stat label="Needs reboot" value={s.needsReboot} href="/hosts?status=needs-reboot" />
      </div>
      {s.total === 0 ? (
        <Card className="mt-6">
          <CardHeader title="No hosts yet" />
          <EmptyState title="Your fleet is empty">
            Add a host under <Link href="/hosts/new" className="text-brand-600 hover:underline">Hosts → New host</Link>, enrol its agent with the token it
            shows, then build and deploy its configuration.
          </EmptyState>
        </Card>
      ) : null}
      <div className="mt-6">
        <OverviewRequestsCard caller={caller} />
      </div>
    </>
  );
}
