// Pure rollout arithmetic: counts and percentages, which host goes in which wave, and
// whether a maintenance window is open. No database here, so it is easy to test.
import { ZRollout, ZRolloutInput, type TCountOrPercent, type TMaintenanceWindow, type TRollout, type TRolloutInput } from '@/lib/db/json-types';

/** A count as given, or a percentage of `total`; `round` decides which way a share rounds. */
export function resolveCount(value: TCountOrPercent, total: number, round: 'up' | 'down'): number {
  if (typeof value === 'number') return Math.min(value, total);
  const share = (Number(value.slice(0, -1)) / 100) * total;
  return Math.min(total, round === 'up' ? Math.ceil(share) : Math.floor(share));
}

export type Limits = { canaries: number; maxInFlight: number; maxFailures: number };

/** Canaries and places in flight round up (25% of 3 hosts is 1, never 0); tolerated failures round down. */
export function limitsFor(strategy: TRollout, total: number): Limits {
  return {
    canaries: resolveCount(strategy.canaries, total, 'up'),
    maxInFlight: Math.max(1, resolveCount(strategy.maxInFlight, total, 'up')),
    maxFailures: resolveCount(strategy.maxFailures, total, 'down'),
  };
}

/** The organisation's defaults under the request's own choices, checked as a whole. */
export function effectiveStrategy(defaults: unknown, requested: TRolloutInput | undefined): TRollout {
  const base = ZRolloutInput.safeParse(defaults ?? {});
  return ZRollout.parse({ ...(base.success ? base.data : {}), ...requested });
}

export type PlanHost = { id: string; name: string; tags: string[]; online: boolean };

/**
 * Orders hosts and cuts them into waves: wave 0 holds the canaries, then waves of maxInFlight.
 * Hosts tagged `canary` are picked as canaries first, then online hosts (a canary that is
 * offline would hold the rollout up), then by name, so the same request plans the same waves.
 */
export function planWaves<H extends PlanHost>(hosts: H[], strategy: TRollout): { limits: Limits; waves: H[][] } {
  const limits = limitsFor(strategy, hosts.length);
  const byName = (a: H, b: H) => a.name.localeCompare(b.name);
  const rank = (h: H) => (h.tags.includes('canary') ? 0 : h.online ? 1 : 2);
  const canaryOrder = [...hosts].sort((a, b) => rank(a) - rank(b) || byName(a, b));
  const canaries = canaryOrder.slice(0, limits.canaries);
  const rest = hosts.filter((h) => !canaries.includes(h)).sort(byName);
  const waves: H[][] = [canaries];
  for (let i = 0; i < rest.length; i += limits.maxInFlight) waves.push(rest.slice(i, i + limits.maxInFlight));
  return { limits, waves };
}


const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Is `at` inside the window? A window whose end is before its start runs past midnight into the next day. */
export function windowOpen(window: TMaintenanceWindow, at: Date): boolean {
  const start = minutes(window.start);
  const end = minutes(window.end);
  const now = at.getUTCHours() * 60 + at.getUTCMinutes();
  const today = at.getUTCDay();
  const dayOk = (day: number) => window.days.length === 0 || window.days.includes(day);
  if (start === end) return dayOk(today);
  if (start < end) return now >= start && now < end && dayOk(today);
  // Wraps: open from start until midnight on a listed day, and from midnight until end the day after.
  return (now >= start && dayOk(today)) || (now < end && dayOk((today + 6) % 7));
}

/** The windows that apply to a host (by its tags); it may be updated when any of them is open. */
export function windowsFor(tags: string[], windows: TMaintenanceWindow[]): TMaintenanceWindow[] {
  return windows.filter((w) => tags.includes(w.tag));
}

/** Null when the host may be updated at `at`; otherwise the reason it waits. */
export function outsideWindow(tags: string[], windows: TMaintenanceWindow[], at: Date): string | null {
  const mine = windowsFor(tags, windows);
  if (mine.length === 0 || mine.some((w) => windowOpen(w, at))) return null;
  return `waits for its maintenance window (${mine.map(describeWindow).join('; ')})`;
}

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
export function describeWindow(w: TMaintenanceWindow): string {
  const days = w.days.length === 0 ? 'daily' : w.days.map((d) => DAY_NAMES[d]).join(',');
  return `tag ${w.tag}: ${days} ${w.start}–${w.end} UTC`;
}

