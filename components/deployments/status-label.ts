// The one wording of deployment statuses and target phases, for badges, filters and counts
// alike: the list said "Rolled back" where the badge beside it said "rolled-back". Lower case,
// as badges read; `capitalized` for a label that starts a line (a filter tab). Browser-safe.
import type { DeploymentStatus, TargetPhase } from '@/lib/db/enums';

const LABELS: Record<DeploymentStatus | TargetPhase, string> = {
  pending: 'pending',
  canary: 'canary',
  rolling: 'rolling',
  paused: 'paused',
  sent: 'sent',
  downloading: 'downloading',
  activating: 'activating',
  confirming: 'confirming',
  'needs-decision': 'needs decision',
  succeeded: 'succeeded',
  failed: 'failed',
  halted: 'halted',
  'rolled-back': 'rolled back',
  skipped: 'skipped',
  cancelled: 'cancelled',
};

/** "rolled-back" → "rolled back"; a value it does not know reads as it is. */
export function statusLabel(value: string): string {
  return (LABELS as Record<string, string>)[value] ?? value;
}

/** "rolled-back" → "Rolled back". */
export function capitalized(label: string): string {
  return label.charAt(0).toUpperCase() + label.slice(1);
}
