// Shapes of outgoing webhooks shared by emitEvent, the delivery job, the REST API and
// the settings page.
import { z } from 'zod';
import { WEBHOOK_DELIVERY_STATUSES, WEBHOOK_FORMATS } from '@/lib/db/enums';

/** Event types a webhook can subscribe to. An empty subscription means all, including ones added later. */
export const WEBHOOK_EVENTS = [
  'deployment.started',
  'deployment.halted',
  'deployment.finished',
  'request.submitted',
  'request.approved',
  'request.denied',
  'request.live',
  'request.failed',
  'alert.fired',
  'alert.resolved',
] as const;
export const ZWebhookEventName = z.enum(WEBHOOK_EVENTS);

/** What "Send test" delivers; it goes to the chosen webhook whatever its subscription. */
export const TEST_EVENT = 'webhook.test';

export const ZWebhookFormat = z.enum(WEBHOOK_FORMATS);

/**
 * Only http(s): anything else (file:, data:, javascript:) is refused. Credentials in the
 * URL are refused too, because fetch() will not send them; put a token in the path or
 * query instead, or rely on the signature.
 */
export function webhookUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'Not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'Use an http:// or https:// URL';
  if (url.username || url.password) return 'URLs with user:password@ are not supported; put a token in the path or query, or verify the signature';
  return null;
}

export const ZWebhookUrl = z
  .string()
  .trim()
  .max(2048)
  .superRefine((value, ctx) => {
    const problem = webhookUrlProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A caller-chosen signing secret; generated ones are `whsec_` + 32 random bytes. */
export const ZWebhookSecret = z
  .string()
  .min(16, 'A secret needs at least 16 characters')
  .max(256)
  .regex(/^[\x21-\x7e]+$/, 'Use printable ASCII without spaces');

export const ZCreateWebhook = z.strictObject({
  name: z.string().trim().min(1, 'Give the webhook a name').max(100),
  url: ZWebhookUrl,
  format: ZWebhookFormat.default('generic'),
  /** Event types to send; empty or absent = all. */
  events: z
    .array(ZWebhookEventName)
    .max(WEBHOOK_EVENTS.length * 2)
    .default([])
    .transform((events) => [...new Set(events)].sort()),
  secret: ZWebhookSecret.optional(),
});
export type TCreateWebhook = z.infer<typeof ZCreateWebhook>;

export const ZDeliveryStatus = z.enum(WEBHOOK_DELIVERY_STATUSES);

export const ZWebhookSummary = z.object({
  id: z.uuid(),
  name: z.string(),
  url: z.string(),
  format: ZWebhookFormat,
  events: z.array(z.string()),
  active: z.boolean(),
  createdAt: z.string(),
  lastDelivery: z.object({ status: ZDeliveryStatus, statusCode: z.number().nullable(), at: z.string() }).nullable(),
});
export type TWebhookSummary = z.infer<typeof ZWebhookSummary>;

export const ZCreatedWebhook = z.object({ id: z.uuid(), secret: z.string() });

export const ZDelivery = z.object({
  id: z.uuid(),
  webhookId: z.uuid(),
  webhookName: z.string(),
  event: z.string(),
  status: ZDeliveryStatus,
  attempts: z.number(),
  lastStatusCode: z.number().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
});
export type TDelivery = z.infer<typeof ZDelivery>;

/** What emitEvent accepts (see lib/notify/emit.ts for the contract). */
export const ZNotifyEvent = z.object({
  type: z.string().regex(/^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/, 'Event types look like "deployment.finished"').max(100),
  key: z.string().min(1).max(300),
  summary: z.string().min(1).max(2000),
  url: z.string().max(2048).optional(),
  data: z.record(z.string(), z.unknown()),
});

/**
 * The settings form: the API's shape plus an "All events" box, so that "all" is a
 * choice someone made and not what an unfilled form means.
 */
export const ZCreateWebhookForm = ZCreateWebhook.extend({ allEvents: z.literal('on').optional() })
  .superRefine((v, ctx) => {
    if (!v.allEvents && v.events.length === 0) ctx.addIssue({ code: 'custom', path: ['events'], message: 'Pick at least one event, or “All events”' });
  })
  .transform(({ allEvents, ...rest }): TCreateWebhook => (allEvents ? { ...rest, events: [] } : rest));
