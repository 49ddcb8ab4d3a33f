// Members of an organisation: list, add (with a password or by invitation), change
// role, remove. An organisation always keeps at least one admin.
import { and, asc, eq, gt, isNull, ne, sql } from 'drizzle-orm';
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { hashPassword } from '@/lib/auth/passwords';
import { generateSecret } from '@/lib/auth/secrets';
import type { Tx } from '@/lib/db/client';
import { db } from '@/lib/db/client';
import { apiTokens, invitations, memberships, users, type Role } from '@/lib/db/schema';
import { env } from '@/lib/env';
import type { TCreateUser } from './schemas';

const INVITATION_DAYS = 7;

export async function listMembers(caller: Caller) {
  const orgId = caller.org.id;
  const [members, pending] = await Promise.all([
    db()
      .select({ user: users, role: memberships.role, joinedAt: memberships.createdAt })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(eq(memberships.orgId, orgId))
      .orderBy(asc(users.name)),
    db()
      .select()
      .from(invitations)
      .where(and(eq(invitations.orgId, orgId), isNull(invitations.acceptedAt), isNull(invitations.revokedAt), gt(invitations.expiresAt, new Date())))
      .orderBy(asc(invitations.createdAt)),
  ]);
  return {
    members: members.map((m) => ({
      id: m.user.id,
      email: m.user.email,
      name: m.user.name,
      role: m.role,
      joinedAt: m.joinedAt.toISOString(),
      disabled: m.user.disabledAt !== null,
    })),
    invitations: pending.map((i) => ({ id: i.id, email: i.email, name: i.name, role: i.role, expiresAt: i.expiresAt.toISOString() })),
  };
}

/**
 * With a password the user can sign in at once; without one they get an invitation
 * link (shown once) to set their own. A person who already has an account elsewhere
 * on this instance is added to the organisation as they are.
 */
export async function addMember(
  caller: Caller,
  input: TCreateUser,
): Promise<{ id: string; invitation?: { id: string; url: string; expiresAt: string } }> {
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  return db().transaction(async (tx) => {
    const [existing] = await tx.select().from(users).where(eq(users.email, input.email)).for('update');
    if (existing) {
      const [member] = await tx
        .select()
        .from(memberships)
        .where(and(eq(memberships.orgId, caller.org.id), eq(memberships.userId, existing.id)));
      if (member) throw new AppError('conflict', `${input.email} is already a member of ${caller.org.name}`);
      await tx.insert(memberships).values({ orgId: caller.org.id, userId: existing.id, role: input.role });
      await recordAudit(tx, caller, { action: 'member.add', objectType: 'user', objectId: existing.id, after: { email: existing.email, role: input.role } });
      return { id: existing.id };
    }
    if (passwordHash) {
      const [user] = await tx.insert(users).values({ email: input.email, name: input.name, passwordHash }).returning();
      if (!user) throw new Error('insert returned nothing');
      await tx.insert(memberships).values({ orgId: caller.org.id, userId: user.id, role: input.role });
      await recordAudit(tx, caller, { action: 'member.add', objectType: 'user', objectId: user.id, after: { email: user.email, role: input.role } });
      return { id: user.id };
    }
    const invitation = await invite(tx, caller, input);
    return { id: invitation.id, invitation };
  });
}

async function invite(tx: Tx, caller: Caller, input: TCreateUser) {
  // A new invitation for the same address replaces the older one.
  await tx
    .update(invitations)
    .set({ revokedAt: new Date() })
    .where(and(eq(invitations.orgId, caller.org.id), eq(invitations.email, input.email), isNull(invitations.acceptedAt), isNull(invitations.revokedAt)));
  const { secret, hash } = generateSecret('inv');
  const expiresAt = new Date(Date.now() + INVITATION_DAYS * 24 * 60 * 60 * 1000);
  const [row] = await tx
    .insert(invitations)
    .values({ orgId: caller.org.id, email: input.email, name: input.name, role: input.role, tokenHash: hash, invitedBy: caller.user.id, expiresAt })
    .returning({ id: invitations.id });
  if (!row) throw new Error('insert returned nothing');
  await recordAudit(tx, caller, { action: 'member.invite', objectType: 'invitation', objectId: row.id, after: { email: input.email, role: input.role } });
  return { id: row.id, url: `${env().publicUrl}/invite/${secret}`, expiresAt: expiresAt.toISOString() };
}

export async function revokeInvitation(caller: Caller, invitationId: string) {
  await db().transaction(async (tx) => {
    const [row] = await tx
      .update(invitations)
      .set({ revokedAt: new Date() })
      .where(and(eq(invitations.id, invitationId), eq(invitations.orgId, caller.org.id), isNull(invitations.acceptedAt), isNull(invitations.revokedAt)))
      .returning();
    if (!row) throw new AppError('not_found', 'No such pending invitation');
    await recordAudit(tx, caller, { action: 'member.invite_revoke', objectType: 'invitation', objectId: row.id, before: { email: row.email } });
  });
}

async function lockMembership(tx: Tx, orgId: string, userId: string) {
  const [row] = await tx
    .select({ role: memberships.role, email: users.email })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId)))
    .for('update', { of: memberships });
  if (!row) throw new AppError('not_found', 'No such member');
  return row;
}

async function assertAnotherAdmin(tx: Tx, orgId: string, userId: string) {
  // Lock all admin rows so two concurrent demotions cannot both pass this check.
  const others = await tx
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.role, 'admin'), ne(memberships.userId, userId)))
    .for('update');
  if (others.length === 0) throw new AppError('conflict', 'An organisation needs at least one admin');
}

export async function changeRole(caller: Caller, userId: string, role: Role) {
  return db().transaction(async (tx) => {
    const before = await lockMembership(tx, caller.org.id, userId);
    if (before.role === role) return { id: userId, role };
    if (before.role === 'admin') await assertAnotherAdmin(tx, caller.org.id, userId);
    await tx.update(memberships).set({ role }).where(and(eq(memberships.orgId, caller.org.id), eq(memberships.userId, userId)));
    await recordAudit(tx, caller, { action: 'member.role', objectType: 'user', objectId: userId, before: { role: before.role }, after: { role } });
    return { id: userId, role };
  });
}

export async function removeMember(caller: Caller, userId: string) {
  await db().transaction(async (tx) => {
    const before = await lockMembership(tx, caller.org.id, userId);
    if (before.role === 'admin') await assertAnotherAdmin(tx, caller.org.id, userId);
    await tx.delete(memberships).where(and(eq(memberships.orgId, caller.org.id), eq(memberships.userId, userId)));
    // Their tokens would wake up again if they were re-added: end them now.
    await tx
      .update(apiTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiTokens.orgId, caller.org.id), eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)));
    await recordAudit(tx, caller, { action: 'member.remove', objectType: 'user', objectId: userId, before: { email: before.email, role: before.role } });
  });
}

export async function memberCount(orgId: string) {
  const [row] = await db().select({ n: sql<number>`count(*)::int` }).from(memberships).where(eq(memberships.orgId, orgId));
  return row?.n ?? 0;
}
