import type { Metadata } from 'next';
import Link from 'next/link';
import { deployDays, fleetPoints, fleetTicks } from '@/components/health/chart-data';
import { DeploymentsChart, DriftChart, OnlineChart } from '@/components/health/fleet-charts';
import { OverviewRequestsCard } from '@/components/requests/request-stats';
import { Card, CardHeader, EmptyState, PageHeader } from '@/components/ui/card';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { fleetOverview } from '@/lib/health/overview';
import { LOW_DISK_BYTES, OUTDATED_DAYS } from '@/lib/hosts/status-sql';
import { HOST_STATUS_LABELS, type THostStatusFilter } from '@/lib/hosts/schemas';
import { MyMachinesView } from './my-machines/my-machines-view';

export const metadata: Metadata = { title: 'Overview' };

const HISTORY_DAYS = 30;

type Counts = Awaited<ReturnType<typeof fleetOverview>>['counts'];
type Tone = 'good' | 'bad' | 'warn' | 'info';
const TONES: Record<Tone, string> = {
  good: 'text-emerald-600 dark:text-emerald-400',
  bad: 'text-red-600 dark:text-red-400',
  warn: 'text-amber-600 dark:text-amber-400',
  info: 'text-brand-600 dark:text-blue-400',
};

/** The overview's cards: each count, the host list filter that lists exactly those hosts, and how to colour it when it is not zero. */
const CARDS: { key: keyof Counts; status: THostStatusFilter; hint: string; tone?: Tone }[] = [
  { key: 'online', status: 'online', hint: 'agent connected', tone: 'good' },
  { key: 'offline', status: 'offline', hint: 'seen before, not connected', tone: 'bad' },
  { key: 'neverSeen', status: 'never-seen', hint: 'agent never connected' },
  { key: 'upToDate', status: 'up-to-date', hint: 'current = desired system', tone: 'good' },
  { key: 'drifted', status: 'drifted', hint: 'current ≠ desired system', tone: 'warn' },
  { key: 'failed', status: 'failed', hint: 'failed or rolled back', tone: 'bad' },
  { key: 'needsReboot', status: 'needs-reboot', hint: 'a new kernel, initrd or modules waits for a boot', tone: 'info' },
  { key: 'lowDisk', status: 'low-disk', hint: `under ${LOW_DISK_BYTES / 1024 ** 3} GiB free on the store`, tone: 'warn' },
  { key: 'unitsFailed', status: 'units-failed', hint: 'systemd units failed', tone: 'bad' },
  { key: 'outdated', status: 'outdated', hint: `older than ${OUTDATED_DAYS} days`, tone: 'warn' },
];

function Stat({ label, hint, value, tone, href }: { label: string; hint: string; value: number; tone?: Tone; href: string }) {
  return (
    <Link href={href} className="block rounded-lg transition hover:ring-2 hover:ring-brand-500/40" aria-label={`${label}: ${value}`}>
      <Card className="h-full px-5 py-4">
        <p className="text-sm font-medium text-slate-600 dark:text-slate-300">{label}</p>
        <p className={`mt-1 text-3xl font-semibold tabular-nums ${value && tone ? TONES[tone] : ''}`}>{value}</p>
        <p className="mt-0.5 text-xs text-slate-500 dark:text-slate-400">{hint}</p>
      </Card>
    </Link>
  );
}

/** A labelled count with a bar showing its share of the fleet, linking to the hosts it counts when there is such a list. */
function ShareRow({ label, value, total, href, color }: { label: string; value: number; total: number; href?: string; color: string }) {
  const share = total ? Math.round((value / total) * 100) : 0;
  const text = (
    <>
      <span className="truncate">{label}</span>
      <span className="ml-auto tabular-nums font-medium">{value}</span>
    </>
  );
  return (
    <li className="px-5 py-2.5">
      {href ? (
        <Link href={href} className="flex items-center gap-3 text-sm hover:text-brand-600 hover:underline dark:hover:text-blue-400">
          {text}
        </Link>
      ) : (
        <div className="flex items-center gap-3 text-sm">{text}</div>
      )}
      <div className="mt-1.5 h-1.5 rounded-full bg-slate-100 dark:bg-slate-800" aria-hidden>
        <div className={`h-1.5 rounded-full ${color}`} style={{ width: `${share}%` }} />
      </div>
    </li>
  );
}

export default async function OverviewPage() {
  const { caller } = await pageCaller('authenticated');
  // Requesters see no fleet: their home is their own machines.
  if (!can(caller, 'fleet.read')) return <MyMachinesView caller={caller} />;

  const { counts: s, agents, nixpkgsAges, history, deploymentsPerDay } = await fleetOverview(caller);
  const points = fleetPoints(history);
  const ticks = fleetTicks(points);
  return (
    <>
      <PageHeader
        title="Fleet overview"
        description={
          <>
            Health of{' '}
            <Link href="/hosts" className="font-medium text-brand-600 hover:underline dark:text-blue-400">
              {s.total === 1 ? '1 host' : `all ${s.total} hosts`}
            </Link>{' '}
            in {caller.org.name}. Every number opens the hosts it counts.
          </>
        }
      />
      {s.total === 0 ? (
        <Card className="mb-6">
          <CardHeader title="No hosts yet" />
          <EmptyState title="Your fleet is empty">
            {can(caller, 'hosts.write') ? (
              <>
                Add a host under <Link href="/hosts/new" className="text-brand-600 hover:underline">Hosts → New host</Link>, enrol its agent with the token it
                shows, then build and deploy its configuration.
              </>
            ) : (
              'Hosts appear here once an operator adds them.'
            )}
          </EmptyState>
        </Card>
      ) : null}
      <div className="grid grid-cols-2 gap-4 md:grid-cols-3 lg:grid-cols-5" data-testid="fleet-counts">
        {CARDS.map((c) => (
          <Stat key={c.key} label={HOST_STATUS_LABELS[c.status]} hint={c.hint} value={s[c.key]} tone={c.tone} href={`/hosts?status=${c.status}`} />
        ))}
      </div>
      <div className="mt-6 grid gap-6 lg:grid-cols-2">
        <Card className="h-full">
          <CardHeader title="Agent versions" description="What the hosts' agents last reported." />
          {agents.length ? (
            <ul className="py-2" data-testid="agent-versions">
              {agents.map((a) => (
                <ShareRow
                  key={a.version ?? ''}
                  label={a.version ?? 'none (never reported)'}
                  value={a.hosts}
                  total={s.total}
                  href={`/hosts?agent=${encodeURIComponent(a.version ?? 'none')}`}
                  color={a.version ? 'bg-brand-500' : 'bg-slate-400'}
                />
              ))}
            </ul>
          ) : (
            <EmptyState title="No hosts" />
          )}
        </Card>
        <Card className="h-full">
          <CardHeader title="Age of nixpkgs" description="Release date of the nixpkgs each host's NixOS was built from." />
          <ul className="py-2" data-testid="nixpkgs-ages">
            <ShareRow label="Under 30 days" value={nixpkgsAges.fresh} total={s.total} color="bg-emerald-500" />
            <ShareRow label={`30 to ${OUTDATED_DAYS} days`} value={nixpkgsAges.aging} total={s.total} color="bg-amber-400" />
            <ShareRow label={`Over ${OUTDATED_DAYS} days`} value={nixpkgsAges.outdated} total={s.total} href="/hosts?status=outdated" color="bg-red-500" />
            <ShareRow label="Unknown (not reported, or the stand-in nixpkgs)" value={nixpkgsAges.unknown} total={s.total} color="bg-slate-400" />
          </ul>
        </Card>
        <OnlineChart points={points} ticks={ticks} />
        <DriftChart points={points} ticks={ticks} />
        <div className="lg:col-span-2">
          <DeploymentsChart days={deployDays(deploymentsPerDay, HISTORY_DAYS, new Date())} />
        </div>
      </div>
      <div className="mt-6">
        <OverviewRequestsCard caller={caller} />
      </div>
    </>
  );
}
