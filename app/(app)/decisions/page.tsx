import type { Metadata } from 'next';
import { relativeTime } from '@/components/hosts/status-badge';
import { AutoRefresh } from '@/components/requests/auto-refresh';
import { Forbidden } from '@/components/shell/forbidden';
import { Card, EmptyState, PageHeader } from '@/components/ui/card';
import { can } from '@/lib/auth/caller';
import { pageCaller } from '@/lib/auth/page';
import { pendingDecisions } from '@/lib/deployments/decide';
import { DecisionCard } from './decisions-client';

export const metadata: Metadata = { title: 'Decisions' };

export default async function DecisionsPage() {
  const { caller, allowed } = await pageCaller('fleet.read');
  if (!allowed) return <Forbidden what="Decisions" />;
  const canDecide = can(caller, 'deployments.write');
  const waiting = await pendingDecisions(caller);
  const now = Date.now();
  return (
    <>
      <PageHeader
        title="Decisions"
        description={
          canDecide
            ? 'Hosts whose pre-switch checks found an error wait here, before anything on them changed. Pick a resolution for every error; the host carries it out and goes on with the switch, or keeps its current system if you abort.'
            : 'Hosts whose pre-switch checks found an error wait here until an operator picks a resolution (read-only).'
        }
      />
      {/* Hosts start and stop waiting on their own: keep the inbox current. */}
      <AutoRefresh active everyMs={3000} />
      {waiting.length === 0 ? (
        <Card>
          <EmptyState title="Nothing is waiting for a decision">
            When a check a system ships (<code className="font-mono text-xs">flotilla.checks</code>) or a built-in check finds an error before a switch, the host waits here.
          </EmptyState>
        </Card>
      ) : (
        <div className="space-y-6" data-testid="decisions">
          {waiting.map((d) => (
            <DecisionCard key={d.targetId} waiting={{ ...d, waitingFor: relativeTime(d.waitingSince, now) }} canDecide={canDecide} />
          ))}
        </div>
      )}
    </>
  );
}
