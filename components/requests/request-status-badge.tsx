import { Badge } from '@/components/ui/card';
import type { RequestStatus } from '@/lib/db/enums';
import { STATUS_LABELS } from './format';

const TONES: Record<RequestStatus, 'slate' | 'green' | 'amber' | 'red' | 'blue'> = {
  submitted: 'amber',
  approved: 'blue',
  building: 'blue',
  deploying: 'blue',
  live: 'green',
  failed: 'red',
  denied: 'red',
  withdrawn: 'slate',
};

export function RequestStatusBadge({ status }: { status: RequestStatus }) {
  return (
    <span data-testid="request-status-badge" data-status={status}>
      <Badge tone={TONES[status]}>{STATUS_LABELS[status]}</Badge>
    </span>
  );
}
