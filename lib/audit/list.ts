// Reading the audit trail with filters, newest first, keyset-paginated on id.
import type { Caller } from '@/lib/auth/caller';
import { and, desc, eq, gte, ilike, lt, lte, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { db } from '@/lib/db/client';
import { auditEvents } from '@/lib/db/schema';

export const ZAuditFilter = z.strictObject({
  action: z.string().trim().max(100).optional(),
  actor: z.string().trim().max(200).optional(),
  objectType: z.string().trim().max(100).optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type TAuditFilter = z.infer<typeof ZAuditFilter>;

export async function listAuditEvents(caller: Caller, filter: TAuditFilter) {
  const orgId = caller.org.id;
  const where: SQL[] = [eq(auditEvents.orgId, orgId)];
  if (filter.action) where.push(ilike(auditEvents.action, `${escapeLike(filter.action)}%`));
  if (filter.actor) where.push(ilike(auditEvents.actorLabel, `%${escapeLike(filter.actor)}%`));
  if (filter.objectType) where.push(eq(auditEvents.objectType, filter.objectType));
  if (filter.from) where.push(gte(auditEvents.at, filter.from));
  if (filter.to) where.push(lte(auditEvents.at, filter.to));
  if (filter.before) where.push(lt(auditEvents.id, filter.before));
  const rows = await db()
    .select()
    .from(auditEvents)
    .where(and(...where))
    .orderBy(desc(auditEvents.id))
    .limit(filter.limit + 1);
  return { events: rows.slice(0, filter.limit), nextBefore: rows.length > filter.limit ? rows[filter.limit - 1]?.id : undefined };
}

function escapeLike(value: string) {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

