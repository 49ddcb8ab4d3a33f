// Shapes the overview's series for the charts on the server, so the browser draws exactly
// what the server rendered (no clock or time zone of its own).
import type { deploymentsPerDay, fleetHistory } from '@/lib/health/overview';

export type FleetPoint = { at: number; online: number; notOnline: number; drifted: number; failed: number; needsReboot: number };
export type DeployDay = { day: string; succeeded: number; failed: number; other: number; successRate: number | null };

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

/** One entry per UTC day of the last `days` (today included), days without deployments as zeros. */
export function deployDays(perDay: Awaited<ReturnType<typeof deploymentsPerDay>>, days: number, now: Date): DeployDay[] {
  const byDay = new Map(perDay.map((d) => [d.day, d]));
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Array.from({ length: days }, (_, i) => {
    const day = new Date(today - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10);
    const d = byDay.get(day);
    if (!d) return { day, succeeded: 0, failed: 0, other: 0, successRate: null };
    return { day, succeeded: d.succeeded, failed: d.failed, other: Math.max(0, d.started - d.succeeded - d.failed), successRate: d.successRate === null ? null : Math.round(d.successRate * 100) };
  });
}
