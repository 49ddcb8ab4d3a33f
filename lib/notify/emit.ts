// The one entry point for "something happened that people may want to hear about".
// Callers (the rollout engine first) call it after their transaction commits: a
// notification for a change that rolled back would be a lie.
import { and, eq, sql } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { webhookDeliveries, webhooks } from '@/lib/db/schema';
import { enqueueDelivery } from './deliver';
import type { TStoredPayload } from '@/lib/db/json-types';
import { ZNotifyEvent, webhookUrlProblem } from './schemas';

export type TNotifyEvent = {
  type: string; // e.g. 'deployment.started' | 'deployment.halted' | 'deployment.finished'
  key: string; // identifies this occurrence, e.g. `${deploymentId}:finished`; the same key is delivered at most once per webhook
  summary: string; // one line for people (the Slack text)
  url?: string; // link to the object in Flotilla
  data: Record<string, unknown>;
};

/**
 * Writes one delivery per active webhook of the organisation that wants this event
 * type, and queues a job for each new one. The same key again writes nothing (unique
 * (webhook_id, event_key)), so a retried caller does not notify twice. A webhook that
 * cannot be used is skipped with a log line; database and queue errors are thrown.
 * A malformed event is a programming error and is thrown too.
 */
export async function emitEvent(orgId: string, event: TNotifyEvent): Promise<void> {
  const e = ZNotifyEvent.parse(event);
  // One indexed query; most organisations have no webhooks and stop here.
  const targets = await db()
    .select({ id: webhooks.id, url: webhooks.url })
    .from(webhooks)
    .where(and(eq(webhooks.orgId, orgId), eq(webhooks.active, true), sql`(cardinality(${webhooks.events}) = 0 or ${e.type} = any(${webhooks.events}))`));
  const usable = targets.filter((w) => {
    const problem = webhookUrlProblem(w.url);
    if (problem) console.error(`[webhooks] webhook ${w.id} skipped for ${e.type}: ${problem}`);
    return !problem;
  });
  if (usable.length === 0) return;

  const payload: TStoredPayload = { summary: e.summary, ...(e.url ? { url: e.url } : {}), data: e.data };
  const created = await db()
    .insert(webhookDeliveries)
    .values(usable.map((w) => ({ webhookId: w.id, event: e.type, eventKey: e.key, payload })))
    .onConflictDoNothing({ target: [webhookDeliveries.webhookId, webhookDeliveries.eventKey] })
    .returning({ id: webhookDeliveries.id });
  // Were queuing to fail here, the rows stay pending and the sweep job queues them later.
  for (const { id } of created) await enqueueDelivery(id);
}
