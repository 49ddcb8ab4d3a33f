// A person's named host-list filters ("offline web hosts in eu"), private to them.
import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { isUniqueViolation } from '@/lib/db/errors';
import { db } from '@/lib/db/client';
import { savedFilters } from '@/lib/db/schema';
import { ZHostListQuery } from './schemas';

/** What a filter keeps: the list's filters and order, never a page. */
export const ZFilterQuery = ZHostListQuery.pick({ q: true, tag: true, status: true, agent: true, sort: true, dir: true });
export const ZSaveFilter = z.strictObject({ name: z.string().trim().min(1).max(60), query: ZFilterQuery });

export async function listSavedFilters(caller: Caller) {
  const rows = await db()
    .select()
    .from(savedFilters)
    .where(and(eq(savedFilters.orgId, caller.org.id), eq(savedFilters.userId, caller.user.id)))
    .orderBy(asc(savedFilters.name));
  return rows.map((r) => ({ id: r.id, name: r.name, query: ZFilterQuery.parse(r.query) }));
}

export async function saveFilter(caller: Caller, input: z.infer<typeof ZSaveFilter>) {
  try {
    const [row] = await db().insert(savedFilters).values({ orgId: caller.org.id, userId: caller.user.id, name: input.name, query: input.query }).returning({ id: savedFilters.id });
    return { id: row?.id as string };
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('conflict', `You already have a filter named "${input.name}"`);
    throw error;
  }
}

export async function deleteFilter(caller: Caller, id: string) {
  const [row] = await db()
    .delete(savedFilters)
    .where(and(eq(savedFilters.id, id), eq(savedFilters.orgId, caller.org.id), eq(savedFilters.userId, caller.user.id)))
    .returning({ id: savedFilters.id });
  if (!row) throw new AppError('not_found', 'No such saved filter');
  return { id };
}
