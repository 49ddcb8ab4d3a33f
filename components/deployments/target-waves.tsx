// Every host of a deployment, grouped by wave (canaries first), with its phase, why it
// waits, how long it took (live while in flight), what went wrong, its system, and what
// its pre-switch checks found.
import Link from 'next/link';
import { Fragment } from 'react';
import { Badge } from '@/components/ui/card';
import { Th } from '@/components/ui/table';
import { isFailedPhase, isFinalPhase, isInFlightPhase as isInFlight } from '@/lib/db/statuses';
import type { TTargetView } from '@/lib/deployments/schemas';
import { formatDuration, shortSystem, waveLabel } from './format';
import { PhaseBadge } from './phase-badge';
import { TargetChecks } from './target-checks';

export function groupByWave(targets: TTargetView[]): { wave: number; targets: TTargetView[] }[] {
  const waves = new Map<number, TTargetView[]>();
  for (const t of targets) waves.set(t.wave, [...(waves.get(t.wave) ?? []), t]);
  return [...waves.entries()].sort(([a], [b]) => a - b).map(([wave, ts]) => ({ wave, targets: ts }));
}

function WaveState({ targets }: { targets: TTargetView[] }) {
  const failed = targets.filter((t) => isFailedPhase(t.phase)).length;
  if (targets.every((t) => isFinalPhase(t.phase))) {
    if (failed) return <Badge tone="red">{failed} failed</Badge>;
    if (targets.every((t) => t.phase === 'succeeded')) return <Badge tone="green">done</Badge>;
    return <Badge>finished</Badge>;
  }
  if (targets.some((t) => isInFlight(t.phase) || t.releasedAt)) return <Badge tone="blue">in progress</Badge>;
  return <Badge tone="amber">waiting</Badge>;
}

function Took({ target, now }: { target: TTargetView; now: number | null }) {
  if (!target.sentAt) return <span className="text-slate-400">—</span>;
  const end = target.finishedAt ? new Date(target.finishedAt).getTime() : now;
  if (end === null) return <span className="text-slate-400">…</span>;
  return <span className={isInFlight(target.phase) ? 'text-brand-600 dark:text-blue-300' : undefined}>{formatDuration(end - new Date(target.sentAt).getTime())}</span>;
}

function System({ target }: { target: TTargetView }) {
  if (!target.storePath) return <span className="text-slate-400">{target.buildId ? 'being built' : '—'}</span>;
  const { hash, name } = shortSystem(target.storePath);
  return (
    <span title={target.storePath} className="font-mono text-xs">
      <span className="text-slate-400">{hash}</span> {name}
    </span>
  );
}

/** Why it waits, or what went wrong: the first line (the rest is on hover). */
function Note({ target }: { target: TTargetView }) {
  if (target.waiting) return <span className="text-amber-700 dark:text-amber-300">{target.waiting}</span>;
  const text = target.rollbackReason ?? target.error;
  if (!text) return null;
  const tone = isFailedPhase(target.phase) ? 'text-red-700 dark:text-red-400' : 'text-slate-500 dark:text-slate-400';
  return (
    <span className={tone} title={text}>
      {target.rollbackReason ? 'Rolled back: ' : ''}
      {text.split('\n')[0]}
    </span>
  );
}

function WaveRows({ wave, targets, now, canDecide }: { wave: number; targets: TTargetView[]; now: number | null; canDecide: boolean }) {
  const finished = targets.filter((t) => isFinalPhase(t.phase)).length;
  return (
    <tbody data-testid={`wave-${wave}`} className="divide-y divide-slate-100 border-t border-slate-200 dark:divide-slate-800/70 dark:border-slate-800">
      <tr className="bg-slate-50 dark:bg-slate-800/40">
        <th colSpan={5} scope="rowgroup" className="px-5 py-2 text-left">
          <span className="flex flex-wrap items-center gap-3">
            <span className="text-sm font-semibold">{waveLabel(wave)}</span>
            <span className="text-xs tabular-nums text-slate-500 dark:text-slate-400" data-testid={`wave-${wave}-progress`}>
              {finished} / {targets.length} finished
            </span>
            <WaveState targets={targets} />
          </span>
        </th>
      </tr>
      {targets.map((t) => (
        <Fragment key={t.id}>
          {/* The checks' row belongs to the host's: no line between them. */}
          <tr data-testid={`target-${t.host}`} className={t.checks.length ? 'border-b-0' : undefined}>
            <td className="whitespace-nowrap px-5 py-2.5 font-medium">
              <Link href={`/hosts/${t.host}`} className="hover:text-brand-600 hover:underline">
                {t.host}
              </Link>
            </td>
            <td className="whitespace-nowrap px-5 py-2.5">
              <PhaseBadge phase={t.phase} />
            </td>
            <td className="whitespace-nowrap px-5 py-2.5 tabular-nums text-slate-600 dark:text-slate-300">
              <Took target={t} now={now} />
            </td>
            <td className="max-w-[18rem] truncate px-5 py-2.5">
              <System target={t} />
            </td>
            <td className="min-w-[12rem] px-5 py-2.5 text-xs">
              <Note target={t} />
            </td>
          </tr>
          {t.checks.length ? (
            <tr>
              <td colSpan={5} className="px-5 pb-3 pt-0">
                <TargetChecks target={t} canDecide={canDecide} />
              </td>
            </tr>
          ) : null}
        </Fragment>
      ))}
    </tbody>
  );
}

export function TargetWaves({ targets, now, canDecide }: { targets: TTargetView[]; now: number | null; canDecide: boolean }) {
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full text-sm">
        <thead>
          <tr>
            <Th>Host</Th>
            <Th>Phase</Th>
            <Th>Took</Th>
            <Th>System</Th>
            <Th>Notes</Th>
          </tr>
        </thead>
        {groupByWave(targets).map((g) => (
          <WaveRows key={g.wave} wave={g.wave} targets={g.targets} now={now} canDecide={canDecide} />
        ))}
      </table>
    </div>
  );
}
