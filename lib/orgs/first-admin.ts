// The first person in: from FLOTILLA_ADMIN_EMAIL/PASSWORD at start, or through the
// one-time setup page when those are unset. Both only work while there is no user.
import { eq, sql } from 'drizzle-orm';
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import { hashPassword } from '@/lib/auth/passwords';
import { db } from '@/lib/db/client';
import { fleetSettings, memberships, organizations, users } from '@/lib/db/schema';
import { env } from '@/lib/env';
import type { TSetupInstance } from './schemas';
import { slugify, slugWithSuffix } from './slug';

const SETUP_LOCK = 4_242_002;

export async function hasAnyUser(): Promise<boolean> {
  const [row] = await db().select({ n: sql<number>`count(*)::int` }).from(users);
  return (row?.n ?? 0) > 0;
}

export async function setupInstance(input: TSetupInstance, source: 'setup-page' | 'environment', ip?: string) {
  const passwordHash = await hashPassword(input.password);
  return db().transaction(async (tx) => {
    // Two people submitting the setup page at once: the second waits, then sees a user.
    await tx.execute(sql`select pg_advisory_xact_lock(${SETUP_LOCK})`);
    const [existing] = await tx.select({ id: users.id }).from(users).limit(1);
    if (existing) throw new AppError('conflict', 'Flotilla is already set up; sign in instead');
    const slugTaken = await tx.select({ id: organizations.id }).from(organizations).where(eq(organizations.slug, slugify(input.orgName)));
    const [org] = await tx
      .insert(organizations)
      .values({ name: input.orgName, slug: slugTaken.length ? slugWithSuffix(input.orgName) : slugify(input.orgName) })
      .returning();
    const [user] = await tx.insert(users).values({ email: input.email, name: input.name, passwordHash }).returning();
    if (!org || !user) throw new Error('insert returned nothing');
    await tx.insert(memberships).values({ orgId: org.id, userId: user.id, role: 'admin' });
    await tx.insert(fleetSettings).values({ orgId: org.id });
    await recordAudit(
      tx,
      { system: source, orgId: org.id, userId: user.id, ip },
      { action: 'instance.setup', objectType: 'organization', objectId: org.id, after: { org: org.name, admin: user.email } },
    );
    return { orgId: org.id, userId: user.id };
  });
}

/** Called at start: creates the admin from the environment when the instance is empty. */
export async function ensureAdminFromEnv(): Promise<'created' | 'exists' | 'not-configured'> {
  const { FLOTILLA_ADMIN_EMAIL: email, FLOTILLA_ADMIN_PASSWORD: password } = env();
  if (!email || !password) return 'not-configured';
  if (await hasAnyUser()) return 'exists';
  try {
    await setupInstance({ orgName: 'Default', name: 'Administrator', email: email.toLowerCase(), password }, 'environment');
    return 'created';
  } catch (error) {
    if (error instanceof AppError && error.code === 'conflict') return 'exists';
    throw error;
  }
}
