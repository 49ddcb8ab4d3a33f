// Shapes the overview's series for the charts on the server, so the browser draws exactly
// what the server rendered (no clock or time zone of its own).
import type { deploymentsPerDay, fleetHistory } from '@/lib/health/overview';
import { timeTicks, type TimeTick } from '@/lib/health/time-ticks';

export type FleetPoint = { at: number; online: number; notOnline: number; drifted: number; failed: number; needsReboot: number };
export type DeployDay = { day: string; succeeded: number; failed: number; rolledBack: number; other: number; successRate: number | null };
export type { TimeTick };

export function fleetPoints(history: Awaited<ReturnType<typeof fleetHistory>>): FleetPoint[] {
  return history.map((s) => ({
    at: Date.parse(s.at),
    online: s.online,
    notOnline: Math.max(0, s.total - s.online),
    drifted: s.drifted,
    failed: s.failed,
    needsReboot: s.needsReboot,
  }));
}

/** The time axis of the hourly charts: ticks whose labels never repeat (lib/health/time-ticks.ts). */
export function fleetTicks(points: FleetPoint[]): TimeTick[] {
  const first = points[0];
  const last = points.at(-1);
  return first && last ? timeTicks(first.at, last.at) : [];
}

/** One entry per UTC day of the last `days` (today included), days without deployments as zeros. */
export function deployDays(perDay: Awaited<ReturnType<typeof deploymentsPerDay>>, days: number, now: Date): DeployDay[] {
  const byDay = new Map(perDay.map((d) => [d.day, d]));
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Array.from({ length: days }, (_, i) => {
    const day = new Date(today - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10);
    const d = byDay.get(day);
    if (!d) return { day, succeeded: 0, failed: 0, rolledBack: 0, other: 0, successRate: null };
    return {
      day,
      succeeded: d.succeeded,
      failed: d.failed,
      rolledBack: d.rolledBack,
      other: Math.max(0, d.started - d.succeeded - d.failed - d.rolledBack),
      successRate: d.successRate === null ? null : Math.round(d.successRate * 100),
    };
  });
}
