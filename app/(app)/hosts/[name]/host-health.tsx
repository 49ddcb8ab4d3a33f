import Link from 'next/link';
import { formatTime } from '@/components/deployments/format';
import { describeRequest } from '@/components/requests/format';
import { RequestStatusBadge } from '@/components/requests/request-status-badge';
import { EmptyState } from '@/components/ui/card';
import type { TRequestView } from '@/lib/requests/schemas';

/** The failed units of the last heartbeat (JSON from the agent, read defensively). */
export function FailedUnits({ health }: { health: unknown }) {
  const h = (health ?? null) as { failedUnits?: unknown; at?: unknown } | null;
  const at = typeof h?.at === 'string' ? h.at : null;
  if (!h || !Array.isArray(h.failedUnits)) {
    return <EmptyState title="Not known yet">{h ? 'The agent could not ask systemd.' : 'The agent has not reported since it enrolled.'}</EmptyState>;
  }
  const units = h.failedUnits.filter((u): u is string => typeof u === 'string');
  const asOf = at ? `As of ${formatTime(new Date(at).toISOString())}.` : null;
  if (units.length === 0) return <EmptyState title="No failed units">{asOf}</EmptyState>;
  return (
    <div data-testid="failed-units">
      <ul className="divide-y divide-slate-100 dark:divide-slate-800">
        {units.map((u) => (
          <li key={u} className="flex items-center gap-2 px-5 py-2 font-mono text-xs text-red-700 dark:text-red-400">
            <span aria-hidden className="h-1.5 w-1.5 rounded-full bg-red-500" />
            {u}
          </li>
        ))}
      </ul>
      {asOf ? <p className="border-t border-slate-100 px-5 py-2 text-xs text-slate-500 dark:border-slate-800 dark:text-slate-400">{asOf}</p> : null}
    </div>
  );
}

export function RecentRequests({ requests }: { requests: TRequestView[] }) {
  if (requests.length === 0) return <EmptyState title="No requests">People assigned to this host ask for software from My machines.</EmptyState>;
  return (
    <ul className="divide-y divide-slate-100 dark:divide-slate-800" data-testid="host-requests">
      {requests.map((r) => (
        <li key={r.id} className="flex items-center justify-between gap-3 px-5 py-2.5 text-sm">
          <span className="min-w-0">
            <Link href={`/requests/${r.id}`} className="block truncate font-medium hover:underline">
              {describeRequest(r)}
            </Link>
            <span className="text-xs text-slate-500 dark:text-slate-400">
              {r.requester.name ?? r.requester.email} · {formatTime(r.createdAt)}
            </span>
          </span>
          <RequestStatusBadge status={r.status} />
        </li>
      ))}
    </ul>
  );
}
