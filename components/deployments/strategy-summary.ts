// A strategy in words, for pages rendered on the server (lib/deployments/strategy.ts,
// which words the maintenance windows, is not for client bundles).
import type { TRollout } from '@/lib/db/json-types';
import { describeWindow } from '@/lib/deployments/strategy';
import { formatSeconds } from './format';

const plural = (n: number | string, one: string, many: string) => (typeof n === 'number' ? `${n} ${n === 1 ? one : many}` : `${n} ${many}`);

/** "2 canaries · 5 at a time · watch 60 s · tolerate 0 failures · on failure: halt · offline: wait 24 h" */
export function describeStrategy(s: TRollout): string[] {
  const parts = [
    plural(s.canaries, 'canary', 'canaries'),
    `${s.maxInFlight} at a time`,
    `watch ${formatSeconds(s.watchSeconds)}`,
    `tolerate ${plural(s.maxFailures, 'failure', 'failures')}`,
    `on failure: ${s.onFailure === 'halt' ? 'halt' : 'roll back all'}`,
    s.offlineHosts === 'skip' ? 'offline: skip' : `offline: wait ${formatSeconds(s.offlineDeadlineSeconds)}`,
  ];
  if (s.action === 'boot') parts.push('activate at next boot');
  for (const w of s.maintenanceWindows) parts.push(`window ${describeWindow(w)}`);
  return parts;
}
