// "My machines": the requester's home (the overview renders it for people without
// fleet.read) and /my-machines. Each assigned machine with its state, its installed
// software and a way to ask for more.
import { relativeTime } from '@/components/hosts/status-badge';
import { AutoRefresh } from '@/components/requests/auto-refresh';
import { Card, EmptyState, PageHeader } from '@/components/ui/card';
import type { Caller } from '@/lib/auth/caller';
import { listRequests, myMachines } from '@/lib/requests/queries';
import { MachineCard, type Machine } from './machine-card';

export async function MyMachinesView({ caller }: { caller: Caller }) {
  const [machines, open] = await Promise.all([myMachines(caller), listRequests(caller, { status: 'open', mine: 'true', limit: 200 })]);
  const now = Date.now();
  const cards: Machine[] = machines.map((m) => ({
      name: m.name,
      presence: m.presence,
      state: m.state as Machine['state'],
      lastSeen: relativeTime(m.lastSeen, now),
      packages: m.packages,
      removable: m.removable,
      deployOnly: m.deployOnly,
      openRequests: open.filter((r) => r.host === m.name).map((r) => ({ id: r.id, kind: r.kind, package: r.package, text: r.text, status: r.status })),
    }));
  return (
    <>
      <PageHeader title="My machines" description="The machines assigned to you, what runs on them, and a way to ask IT for more software." />
      {/* While a request is on its way, its machine changes: follow it without a reload. */}
      <AutoRefresh active={open.length > 0} everyMs={5000} />
      {cards.length === 0 ? (
        <Card>
          <EmptyState title="No machines are assigned to you yet">Your IT team assigns machines to people; ask them if one is missing.</EmptyState>
        </Card>
      ) : (
        // One machine (the usual case) gets a comfortable column rather than half the page.
        <div className={cards.length > 1 ? 'grid gap-6 xl:grid-cols-2' : 'max-w-3xl'}>
          {cards.map((m) => (
            <MachineCard key={m.name} machine={m} />
          ))}
        </div>
      )}
    </>
  );
}
