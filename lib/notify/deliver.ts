// The `webhook-deliver` job: one POST of one delivery row, signed, with a timeout.
// pg-boss does the waiting between attempts (retryLimit/retryDelay/retryBackoff); the
// row counts attempts, so the handler knows when the last one failed and says so.
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import { open } from '@/lib/crypto/secret-box';
import { db } from '@/lib/db/client';
import { webhookDeliveries, webhooks } from '@/lib/db/schema';
import { sendJob } from '@/lib/jobs/queue';
import { jobSpec } from '@/lib/jobs/spec';
import { ZStoredPayload, type TStoredPayload } from '@/lib/db/json-types';
import { webhookUrlProblem } from './schemas';
import { AddressRefused } from './address-guard';
import { postGuarded } from './outbound';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signBody } from './sign';

export const DELIVER_JOB = jobSpec({
  name: 'webhook-deliver',
  version: 1,
  payload: z.object({ deliveryId: z.uuid() }),
  // The sender applies this process's policy (configureDelivery); a hung attempt is cut by the fetch timeout long before expiry.
  retry: { retryLimit: 5, retryDelay: 60, retryBackoff: true, expireInSeconds: 5 * 60 },
});
export const SWEEP_JOB = 'webhook-sweep';

export type DeliveryPolicy = {
  /** Attempts in all, the first included. */
  attempts: number;
  /** pg-boss retryDelay: with backoff, retry n waits about delay·2ⁿ⁻¹…delay·2ⁿ seconds. */
  retryDelaySeconds: number;
  backoff: boolean;
  timeoutMs: number;
};

// 6 attempts; with backoff the five waits are 1–2, 2–4, 4–8, 8–16 and 16–32 minutes:
// the last attempt comes 31 to 62 minutes after the first.
const DEFAULT_POLICY: DeliveryPolicy = { attempts: 6, retryDelaySeconds: 60, backoff: true, timeoutMs: 10_000 };
let policy: DeliveryPolicy = { ...DEFAULT_POLICY };

/**
 * Changes the policy of this process (tests retry within a second). The sender sets
 * pg-boss's retries from it and the worker counts attempts against it, so both must
 * see the same values: in production both use the defaults.
 */
export function configureDelivery(change: Partial<DeliveryPolicy> | 'defaults') {
  policy = change === 'defaults' ? { ...DEFAULT_POLICY } : { ...policy, ...change };
}

export function deliveryPolicy(): Readonly<DeliveryPolicy> {
  return policy;
}

/** Queues the job of a delivery; the job id is the delivery id, so queuing twice is one job. */
export async function enqueueDelivery(deliveryId: string) {
  await sendJob(
    DELIVER_JOB,
    { deliveryId },
    { id: deliveryId, retry: { retryLimit: policy.attempts - 1, retryDelay: policy.retryDelaySeconds, retryBackoff: policy.backoff } },
  );
}

/** Thrown to make pg-boss retry; the message carries no URL, payload or secret. */
export class DeliveryRetry extends Error {}

export type DeliveryOutcome = 'delivered' | 'failed' | 'skipped';

export async function deliverWebhook(deliveryId: string): Promise<DeliveryOutcome> {
  const [row] = await db()
    .select({ delivery: webhookDeliveries, webhook: webhooks })
    .from(webhookDeliveries)
    .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
    .where(eq(webhookDeliveries.id, deliveryId));
  // Deleted with its webhook, or already finished (a repeated job): nothing to do.
  if (!row || row.delivery.status !== 'pending') return 'skipped';
  const { delivery, webhook } = row;

  // A webhook that cannot work will not start working on retry: fail now, once.
  const prepared = prepare(webhook, delivery.payload);
  if ('problem' in prepared) {
    console.error(`[webhooks] delivery ${deliveryId} (webhook ${webhook.id}): ${prepared.problem}; not sending`);
    await record(deliveryId, { ok: false, statusCode: null, error: prepared.problem, final: true });
    return 'failed';
  }
  const { payload, secret } = prepared;
  const body = JSON.stringify(
    webhook.format === 'slack'
      ? { text: payload.url ? `${payload.summary} ${payload.url}` : payload.summary }
      : { id: delivery.id, event: delivery.event, createdAt: delivery.createdAt.toISOString(), summary: payload.summary, url: payload.url ?? null, data: payload.data },
  );
  const timestamp = Math.floor(Date.now() / 1000);
  const result = await post(webhook.url, body, {
    'content-type': 'application/json',
    'user-agent': 'Flotilla-Webhooks',
    [EVENT_HEADER]: delivery.event,
    [DELIVERY_HEADER]: delivery.id,
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: signBody(secret, timestamp, body),
  });

  const { refused, ...outcome } = result;
  const status = await record(deliveryId, { ...outcome, final: refused ?? false });
  if (!status) return 'skipped';
  if (status.status === 'delivered') return 'delivered';
  // The origin only: paths and queries of webhook URLs are often secrets themselves (Slack's are).
  const where = new URL(webhook.url).origin;
  console.warn(`[webhooks] delivery ${deliveryId} to ${where}: ${result.error} (attempt ${status.attempts} of ${policy.attempts})`);
  if (status.status === 'failed') return 'failed';
  throw new DeliveryRetry(`webhook delivery ${deliveryId}: ${result.error}; will retry`);
}

function prepare(webhook: typeof webhooks.$inferSelect, stored: unknown): { problem: string } | { payload: TStoredPayload; secret: string } {
  if (!webhook.active) return { problem: 'the webhook is disabled' };
  const urlProblem = webhookUrlProblem(webhook.url);
  if (urlProblem) return { problem: `bad URL: ${urlProblem}` };
  const payload = ZStoredPayload.safeParse(stored);
  if (!payload.success) return { problem: 'the stored payload is malformed' };
  try {
    return { payload: payload.data, secret: open(webhook.secretEnc) };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

type PostResult = { ok: boolean; statusCode: number | null; error: string | null };
/** `refused`: the target's address is not allowed; retrying would only be refused again. */
type PostOutcome = PostResult & { refused?: boolean };

async function post(url: string, body: string, headers: Record<string, string>): Promise<PostOutcome> {
  try {
    // Only to addresses the guard allows, checked on the address connected to (DNS rebinding).
    const res = await postGuarded(url, body, headers, { timeoutMs: policy.timeoutMs, snippetBytes: 300 });
    // The start of the receiver's answer, for people reading the delivery log.
    const snippet = res.snippet.replace(/\s+/g, ' ').trim();
    if (res.status >= 200 && res.status < 300) return { ok: true, statusCode: res.status, error: null };
    return { ok: false, statusCode: res.status, error: `HTTP ${res.status}${snippet ? `: ${snippet}` : ''}` };
  } catch (error) {
    return { ok: false, statusCode: null, error: error instanceof Error ? error.message : String(error), refused: error instanceof AddressRefused };
  }
}

/**
 * Counts one attempt and decides the status in one statement: delivered on 2xx, failed
 * when this was the last attempt (or `final`), else still pending. Returns null when the
 * row is gone or no longer pending.
 */
async function record(deliveryId: string, r: PostResult & { final: boolean }) {
  const attemptsLeft = sql`${webhookDeliveries.attempts} + 1 < ${policy.attempts}`;
  const [updated] = await db()
    .update(webhookDeliveries)
    .set({
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      lastStatusCode: r.statusCode,
      lastError: r.error?.slice(0, 1000) ?? null,
      status: r.ok ? 'delivered' : r.final ? 'failed' : sql`case when ${attemptsLeft} then 'pending' else 'failed' end::webhook_delivery_status`,
      deliveredAt: r.ok ? new Date() : null,
    })
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.status, 'pending')))
    .returning({ status: webhookDeliveries.status, attempts: webhookDeliveries.attempts });
  return updated ?? null;
}

const SWEEP_AFTER_MINUTES = 5;
const GIVE_UP_AFTER_HOURS = 24;

/**
 * emitEvent queues jobs after its rows are written; if queuing failed (or the process
 * died in between) the rows would wait forever. Every few minutes: queue again what was
 * never attempted (same job id, so a job that exists is not doubled), and fail what has
 * been pending for a day, long past the last retry.
 */
export async function sweepDeliveries() {
  const now = Date.now();
  const stale = await db()
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.status, 'pending'),
        eq(webhookDeliveries.attempts, 0),
        lt(webhookDeliveries.createdAt, new Date(now - SWEEP_AFTER_MINUTES * 60_000)),
        gt(webhookDeliveries.createdAt, new Date(now - GIVE_UP_AFTER_HOURS * 3_600_000)),
      ),
    )
    .limit(500);
  for (const { id } of stale) await enqueueDelivery(id);
  await db()
    .update(webhookDeliveries)
    .set({ status: 'failed', lastError: sql`coalesce(${webhookDeliveries.lastError}, 'never attempted') || ' (gave up after a day)'` })
    .where(and(eq(webhookDeliveries.status, 'pending'), lt(webhookDeliveries.createdAt, new Date(now - GIVE_UP_AFTER_HOURS * 3_600_000))));
  return { requeued: stale.length };
}
