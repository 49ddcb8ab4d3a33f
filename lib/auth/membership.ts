// Turns a signed-in user into a Caller for one of their organisations.
import { asc, eq } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { memberships, organizations, users } from '@/lib/db/schema';
import type { Caller } from './caller';
import { effectivePermissions } from './permissions';

export const ORG_COOKIE = 'flotilla_org';

export async function userMemberships(userId: string) {
  return db()
    .select({ org: organizations, role: memberships.role })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.orgId))
    .where(eq(memberships.userId, userId))
    .orderBy(asc(memberships.createdAt));
}

/**
 * The caller for a user id taken from a session, or null when the session no longer
 * holds (user gone or disabled, sessions revoked by an epoch bump, no membership).
 * `orgHint` is an organisation id or slug the user picked; unknown hints fall back
 * to their first organisation.
 */
export async function callerForUser(
  userId: string,
  opts: { epoch?: number; orgHint?: string; ip?: string; via?: Caller['via'] } = {},
): Promise<Caller | null> {
  const [user] = await db().select().from(users).where(eq(users.id, userId)).limit(1);
  if (!user || user.disabledAt) return null;
  if (opts.epoch !== undefined && opts.epoch !== user.sessionEpoch) return null;
  const all = await userMemberships(user.id);
  const chosen = all.find((m) => m.org.id === opts.orgHint || m.org.slug === opts.orgHint) ?? all[0];
  if (!chosen) return null;
  return {
    user: { id: user.id, email: user.email, name: user.name },
    org: { id: chosen.org.id, slug: chosen.org.slug, name: chosen.org.name },
    role: chosen.role,
    permissions: effectivePermissions(chosen.role),
    via: opts.via ?? 'session',
    ip: opts.ip,
  };
}
