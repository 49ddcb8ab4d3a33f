import { Badge } from '@/components/ui/card';
import type { TRequestStatus } from '@/lib/requests/schemas';
import { STATUS_LABELS } from './format';

const TONES: Record<TRequestStatus, 'slate' | 'green' | 'amber' | 'red' | 'blue'> = {
  submitted: 'amber',
  approved: 'blue',
  building: 'blue',
  deploying: 'blue',
  live: 'green',
  failed: 'red',
  denied: 'red',
  withdrawn: 'slate',
};

export function RequestStatusBadge({ status }: { status: TRequestStatus }) {
  return (
    <span data-testid="request-status-badge" data-status={status}>
      <Badge tone={TONES[status]}>{STATUS_LABELS[status]}</Badge>
    </span>
  );
}
