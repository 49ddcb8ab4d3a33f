import { Badge } from '@/components/ui/card';
import { statusLabel } from './status-label';

type Tone = 'green' | 'red' | 'slate' | 'amber' | 'blue';

/** One colour per meaning, for target phases and deployment statuses alike. */
function toneOf(phase: string): Tone {
  switch (phase) {
    case 'succeeded':
      return 'green';
    case 'failed':
    case 'rolled-back':
    case 'halted':
      return 'red';
    case 'skipped':
    case 'cancelled':
      return 'slate';
    case 'pending':
    case 'paused':
    case 'needs-decision':
      return 'amber';
    default:
      return 'blue';
  }
}

export function PhaseBadge({ phase }: { phase: string }) {
  return <Badge tone={toneOf(phase)}>{statusLabel(phase)}</Badge>;
}
