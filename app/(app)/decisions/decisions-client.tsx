'use client';

// One host waiting for a decision: what its checks found and, for operators, a choice
// among the resolutions of every error item. The server checks the choices again and
// its refusal is shown in place.
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState, useTransition } from 'react';
import { CheckItems } from '@/components/deployments/check-items';
import { formatTime, shortSystem } from '@/components/deployments/format';
import { actionError } from '@/components/requests/action-error';
import { Button } from '@/components/ui/button';
import { Badge, Card, CardHeader } from '@/components/ui/card';
import { FormError } from '@/components/ui/form';
import type { TCheckItem } from '@/lib/agents/protocol';
import { decideTargetAction } from './actions';

export type Waiting = {
  deploymentId: string;
  targetId: string;
  host: string;
  storePath: string | null;
  items: TCheckItem[];
  decision: Record<string, string> | null;
  waitingSince: string;
  /** "12 min ago", worded on the server. */
  waitingFor: string;
};

function ResolutionChoice({ item, name, value, onChange, disabled }: { item: TCheckItem; name: string; value: string | undefined; onChange: (id: string) => void; disabled: boolean }) {
  return (
    <fieldset className="rounded-md px-3 py-2 ring-1 ring-inset ring-slate-200 dark:ring-slate-700" data-testid={`choice-${item.id}`}>
      <legend className="px-1 text-xs font-medium text-slate-600 dark:text-slate-300">Resolution</legend>
      <div className="flex flex-wrap gap-x-5 gap-y-2">
        {item.resolutions.map((r) => (
          <label key={r.id} className="inline-flex cursor-pointer items-center gap-2 text-sm">
            <input type="radio" name={name} value={r.id} checked={value === r.id} onChange={() => onChange(r.id)} disabled={disabled} className="accent-brand-600" />
            <span className={r.id === 'abort' ? 'text-red-700 dark:text-red-400' : undefined}>{r.label}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function DecisionCard({ waiting, canDecide }: { waiting: Waiting; canDecide: boolean }) {
  const router = useRouter();
  const [choices, setChoices] = useState<Record<string, string>>({});
  const [busy, start] = useTransition();
  const [error, setError] = useState<string>();
  const decided = waiting.decision !== null;
  const errors = waiting.items.filter((i) => i.level === 'error');
  const system = waiting.storePath ? shortSystem(waiting.storePath) : null;

  const decide = () =>
    start(async () => {
      const result = await decideTargetAction(null, { deploymentId: waiting.deploymentId, targetId: waiting.targetId, choices });
      if (result?.ok) {
        setError(undefined);
        router.refresh();
      } else setError(actionError(result));
    });

  return (
    <Card className="overflow-hidden">
      <div data-testid={`decision-${waiting.host}`}>
        <CardHeader
          title={waiting.host}
          description={
            <span className="flex flex-wrap gap-x-3 gap-y-1">
              <Link href={`/deployments/${waiting.deploymentId}`} className="text-brand-600 hover:underline dark:text-blue-400">
                Deployment {waiting.deploymentId.slice(0, 8)}
              </Link>
              <span title={formatTime(waiting.waitingSince)}>waiting since {waiting.waitingFor}</span>
              {system ? (
                <span className="font-mono text-xs" title={waiting.storePath ?? undefined}>
                  <span className="text-slate-400">{system.hash}</span> {system.name}
                </span>
              ) : null}
            </span>
          }
          actions={decided ? <Badge tone="blue">decided, host carrying it out</Badge> : <Badge tone="amber">{errors.length === 1 ? '1 error' : `${errors.length} errors`} to decide</Badge>}
        />
        <div className="px-5 py-4">
          <CheckItems
            items={waiting.items}
            decision={waiting.decision}
            choice={(item) =>
              canDecide && !decided && item.level === 'error' ? (
                <ResolutionChoice
                  item={item}
                  name={`${waiting.targetId}:${item.id}`}
                  value={choices[item.id]}
                  disabled={busy}
                  onChange={(id) => setChoices((c) => ({ ...c, [item.id]: id }))}
                />
              ) : null
            }
          />
        </div>
        {canDecide && !decided ? (
          <div className="flex flex-wrap items-center justify-end gap-3 border-t border-slate-200 bg-slate-50 px-5 py-3 dark:border-slate-800 dark:bg-slate-900/60">
            <div className="mr-auto min-w-0 flex-1">
              <FormError message={error} />
            </div>
            <Button onClick={decide} disabled={busy}>
              {busy ? 'Deciding…' : 'Decide'}
            </Button>
          </div>
        ) : null}
      </div>
    </Card>
  );
}
