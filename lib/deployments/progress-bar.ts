// The segments of a deployment's progress bar. The bar measures hosts finished: a host in
// flight fills only the part of its width its phase has reached, so one host activating is
// not a full bar above "0 of 1 hosts finished". Browser-safe (the deployment page draws it).
import type { TargetPhase } from '@/lib/db/enums';
import { FAILED_TARGET_PHASES, IN_FLIGHT_TARGET_PHASES, NOT_STARTED_TARGET_PHASES } from '@/lib/db/statuses';

type InFlightPhase = (typeof IN_FLIGHT_TARGET_PHASES)[number];

/** How far a host in each phase is along its way to finished (a share of its width in the bar). */
export const IN_FLIGHT_SHARE: Record<InFlightPhase, number> = { sent: 0.1, downloading: 0.3, 'needs-decision': 0.5, activating: 0.6, confirming: 0.85 };

export type ProgressSegment = { key: 'succeeded' | 'failed' | 'not-started' | 'in-flight'; hosts: number; percent: number };

/** The bar's segments, in order, from the count of targets in each phase; `total` is every target. */
export function progressSegments(counts: Partial<Record<TargetPhase, number>>, total: number): ProgressSegment[] {
  const sum = (phases: readonly TargetPhase[]) => phases.reduce((n, p) => n + (counts[p] ?? 0), 0);
  const percent = (hosts: number) => (hosts / Math.max(total, 1)) * 100;
  const inFlight = IN_FLIGHT_TARGET_PHASES.reduce((n, p) => n + (counts[p] ?? 0) * IN_FLIGHT_SHARE[p], 0);
  return [
    { key: 'succeeded', hosts: sum(['succeeded']), percent: percent(sum(['succeeded'])) },
    { key: 'failed', hosts: sum(FAILED_TARGET_PHASES), percent: percent(sum(FAILED_TARGET_PHASES)) },
    { key: 'not-started', hosts: sum(NOT_STARTED_TARGET_PHASES), percent: percent(sum(NOT_STARTED_TARGET_PHASES)) },
    { key: 'in-flight', hosts: sum(IN_FLIGHT_TARGET_PHASES), percent: percent(inFlight) },
  ];
}
