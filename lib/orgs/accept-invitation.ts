// Accepting an invitation: the link's secret proves the invitation; the person sets
// their name and password (or signs in through OIDC with the invited address).
import { and, eq, gt, isNull } from 'drizzle-orm';
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import { hashPassword } from '@/lib/auth/passwords';
import { hashSecret } from '@/lib/auth/secrets';
import type { Tx } from '@/lib/db/client';
import { db } from '@/lib/db/client';
import { invitations, memberships, organizations, users, type Invitation, type User } from '@/lib/db/schema';
import type { TAcceptInvitation } from './schemas';

export async function findInvitation(secret: string) {
  const [row] = await db()
    .select({ invitation: invitations, orgName: organizations.name })
    .from(invitations)
    .innerJoin(organizations, eq(organizations.id, invitations.orgId))
    .where(and(eq(invitations.tokenHash, hashSecret(secret)), isNull(invitations.acceptedAt), isNull(invitations.revokedAt), gt(invitations.expiresAt, new Date())));
  return row ?? null;
}

/** Creates the user if needed, adds every given membership, marks the invitations accepted. */
export async function acceptInvitationRows(tx: Tx, pending: Invitation[], who: { name: string; passwordHash: string | null }): Promise<User> {
  const email = pending[0]?.email;
  if (!email) throw new AppError('not_found', 'This invitation is invalid, expired or already used');
  let [user] = await tx.select().from(users).where(eq(users.email, email)).for('update');
  if (!user) {
    [user] = await tx.insert(users).values({ email, name: who.name, passwordHash: who.passwordHash, emailVerified: new Date() }).returning();
  }
  if (!user) throw new Error('insert returned nothing');
  for (const invitation of pending) {
    await tx.insert(memberships).values({ orgId: invitation.orgId, userId: user.id, role: invitation.role }).onConflictDoNothing();
    await tx.update(invitations).set({ acceptedAt: new Date() }).where(eq(invitations.id, invitation.id));
    await recordAudit(
      tx,
      { system: 'invitation', orgId: invitation.orgId, userId: user.id },
      { action: 'member.join', objectType: 'user', objectId: user.id, after: { email, role: invitation.role } },
    );
  }
  return user;
}

export async function acceptInvitation(input: TAcceptInvitation) {
  const passwordHash = await hashPassword(input.password);
  return db().transaction(async (tx) => {
    const [invitation] = await tx
      .select()
      .from(invitations)
      .where(and(eq(invitations.tokenHash, hashSecret(input.token)), isNull(invitations.acceptedAt), isNull(invitations.revokedAt), gt(invitations.expiresAt, new Date())))
      .for('update');
    if (!invitation) throw new AppError('not_found', 'This invitation is invalid, expired or already used');
    const [existing] = await tx.select({ id: users.id }).from(users).where(eq(users.email, invitation.email));
    if (existing) {
      // Someone who already has an account keeps their password; they join and sign in as before.
      const user = await acceptInvitationRows(tx, [invitation], { name: input.name, passwordHash: null });
      return { email: user.email, existingAccount: true };
    }
    const user = await acceptInvitationRows(tx, [invitation], { name: input.name, passwordHash });
    return { email: user.email, existingAccount: false };
  });
}
