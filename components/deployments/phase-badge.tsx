import { Badge } from '@/components/ui/card';

export function PhaseBadge({ phase }: { phase: string }) {
  const tone =
    phase === 'succeeded' ? 'green' : phase === 'failed' || phase === 'rolled-back' || phase === 'halted' ? 'red' : phase === 'skipped' || phase === 'cancelled' ? 'slate' : phase === 'pending' ? 'amber' : 'blue';
  return <Badge tone={tone}>{phase}</Badge>;
}
