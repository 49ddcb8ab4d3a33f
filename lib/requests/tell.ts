// Telling people about a request: in-app notifications (and e-mail) for the people
// concerned, and the organisation's webhooks for the request's own milestones. Written
// as an outbox event in the transaction that moved the request (lib/events), so the
// notice exists exactly when the change does and is delivered once it committed.
import type { Tx } from '@/lib/db/client';
import { emit } from '@/lib/events/outbox';
import type { TAudience } from '@/lib/notify/notice';
import type { TPersonNotice } from '@/lib/notify/people';

export async function tell(
  tx: Tx,
  orgId: string,
  to: TAudience,
  notice: TPersonNotice,
  /** For milestones (submitted, approved, denied, live, failed): what webhooks receive. */
  webhook?: Record<string, unknown>,
) {
  await emit(tx, { type: 'request.notice', orgId, to, notice, ...(webhook ? { webhook } : {}) });
}
