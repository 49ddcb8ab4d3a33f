// Managing an organisation's webhooks. Everything is scoped to the caller's
// organisation and needs settings.manage (webhook URLs often carry secrets, so even the
// list is not for everyone). The signing secret is sealed, shown once, never audited.
import { randomUUID } from 'node:crypto';
import { and, desc, eq, inArray } from 'drizzle-orm';
import { AppError } from '@/lib/api/errors';
import { recordAudit } from '@/lib/audit/record';
import type { Caller } from '@/lib/auth/caller';
import { seal } from '@/lib/crypto/secret-box';
import { db } from '@/lib/db/client';
import { webhookDeliveries, webhooks } from '@/lib/db/schema';
import { env } from '@/lib/env';
import { webhookTargetProblem } from './address-guard';
import { enqueueDelivery } from './deliver';
import type { TStoredPayload } from '@/lib/db/json-types';
import { TEST_EVENT, type TCreateWebhook, type TDelivery, type TWebhookSummary } from './schemas';
import { generateWebhookSecret } from './sign';

function requireManage(caller: Caller) {
  // The routes and actions check this too; the rule lives with the operation.
  if (!caller.permissions.has('settings.manage')) throw new AppError('forbidden', 'Managing webhooks needs the "settings.manage" permission');
}

/** What the audit log may keep of a URL: its origin. Paths and queries are often the secret (Slack's are). */
export function urlOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

export async function createWebhook(caller: Caller, input: TCreateWebhook): Promise<{ id: string; secret: string }> {
  requireManage(caller);
  // Said now, as a field error; the delivery checks again on the address it connects to.
  const targetProblem = await webhookTargetProblem(input.url);
  if (targetProblem) throw new AppError('invalid_request', `Webhook URL refused: ${targetProblem}`, { issues: [{ path: 'url', message: targetProblem }] });
  const secret = input.secret ?? generateWebhookSecret();
  return db().transaction(async (tx) => {
    const [row] = await tx
      .insert(webhooks)
      .values({ orgId: caller.org.id, name: input.name, url: input.url, format: input.format, events: input.events, secretEnc: seal(secret), createdBy: caller.user.id })
      .returning({ id: webhooks.id });
    if (!row) throw new Error('insert returned nothing');
    await recordAudit(tx, caller, {
      action: 'webhook.create',
      objectType: 'webhook',
      objectId: row.id,
      after: { name: input.name, url: urlOrigin(input.url), format: input.format, events: input.events, secretSupplied: input.secret !== undefined },
    });
    return { id: row.id, secret };
  });
}

export async function listWebhooks(caller: Caller): Promise<TWebhookSummary[]> {
  requireManage(caller);
  const rows = await db().select().from(webhooks).where(eq(webhooks.orgId, caller.org.id)).orderBy(webhooks.createdAt);
  if (rows.length === 0) return [];
  const last = await db()
    .selectDistinctOn([webhookDeliveries.webhookId], {
      webhookId: webhookDeliveries.webhookId,
      status: webhookDeliveries.status,
      statusCode: webhookDeliveries.lastStatusCode,
      at: webhookDeliveries.createdAt,
    })
    .from(webhookDeliveries)
    .where(
      inArray(
        webhookDeliveries.webhookId,
        rows.map((r) => r.id),
      ),
    )
    .orderBy(webhookDeliveries.webhookId, desc(webhookDeliveries.createdAt));
  const lastBy = new Map(last.map((l) => [l.webhookId, l]));
  return rows.map((r) => {
    const l = lastBy.get(r.id);
    return {
      id: r.id,
      name: r.name,
      url: r.url,
      format: r.format,
      events: r.events,
      active: r.active,
      createdAt: r.createdAt.toISOString(),
      lastDelivery: l ? { status: l.status, statusCode: l.statusCode, at: l.at.toISOString() } : null,
    };
  });
}

export async function deleteWebhook(caller: Caller, webhookId: string): Promise<{ id: string }> {
  requireManage(caller);
  return db().transaction(async (tx) => {
    const [row] = await tx
      .delete(webhooks)
      .where(and(eq(webhooks.id, webhookId), eq(webhooks.orgId, caller.org.id)))
      .returning();
    if (!row) throw new AppError('not_found', 'No such webhook');
    // Its deliveries go with it (on delete cascade); their queued jobs then find nothing to do.
    await recordAudit(tx, caller, {
      action: 'webhook.delete',
      objectType: 'webhook',
      objectId: row.id,
      before: { name: row.name, url: urlOrigin(row.url), format: row.format, events: row.events },
    });
    return { id: row.id };
  });
}

/** Delivers a `webhook.test` event to this one webhook, whatever it subscribes to. */
export async function sendTestEvent(caller: Caller, webhookId: string): Promise<{ deliveryId: string }> {
  requireManage(caller);
  const deliveryId = await db().transaction(async (tx) => {
    const [hook] = await tx
      .select({ id: webhooks.id, name: webhooks.name })
      .from(webhooks)
      .where(and(eq(webhooks.id, webhookId), eq(webhooks.orgId, caller.org.id)));
    if (!hook) throw new AppError('not_found', 'No such webhook');
    const payload: TStoredPayload = {
      summary: `Test from Flotilla (${caller.org.name}): webhook “${hook.name}” works`,
      url: `${env().publicUrl}/settings/webhooks`,
      data: { webhook: { id: hook.id, name: hook.name }, sentBy: caller.user.email },
    };
    const [row] = await tx
      .insert(webhookDeliveries)
      .values({ webhookId: hook.id, event: TEST_EVENT, eventKey: `test:${randomUUID()}`, payload })
      .returning({ id: webhookDeliveries.id });
    if (!row) throw new Error('insert returned nothing');
    await recordAudit(tx, caller, { action: 'webhook.test', objectType: 'webhook', objectId: hook.id, after: { deliveryId: row.id } });
    return row.id;
  });
  await enqueueDelivery(deliveryId);
  return { deliveryId };
}

/** The newest deliveries of the organisation's webhooks, or of one of them. */
export async function listDeliveries(caller: Caller, opts: { webhookId?: string; limit?: number } = {}): Promise<TDelivery[]> {
  requireManage(caller);
  const rows = await db()
    .select({ d: webhookDeliveries, webhookName: webhooks.name })
    .from(webhookDeliveries)
    .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
    .where(and(eq(webhooks.orgId, caller.org.id), opts.webhookId ? eq(webhooks.id, opts.webhookId) : undefined))
    .orderBy(desc(webhookDeliveries.createdAt))
    .limit(Math.min(opts.limit ?? 20, 100));
  return rows.map(({ d, webhookName }) => ({
    id: d.id,
    webhookId: d.webhookId,
    webhookName,
    event: d.event,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    createdAt: d.createdAt.toISOString(),
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
  }));
}

/** Whether a webhook exists in the caller's organisation (404 otherwise), for the deliveries route. */
export async function assertWebhook(caller: Caller, webhookId: string) {
  requireManage(caller);
  const [hook] = await db()
    .select({ id: webhooks.id })
    .from(webhooks)
    .where(and(eq(webhooks.id, webhookId), eq(webhooks.orgId, caller.org.id)));
  if (!hook) throw new AppError('not_found', 'No such webhook');
}
