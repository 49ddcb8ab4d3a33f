// Periodic clean-up: secrets that can no longer be used are deleted so the tables
// holding them stay small. Audit events keep what happened to them. Delivered outbox
// events go after a week (lib/events/dispatch.ts).
import { and, isNotNull, lt, or } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { enrollTokens, invitations } from '@/lib/db/schema';
import { pruneOutbox } from '@/lib/events/dispatch';

const KEEP_MS = 30 * 24 * 60 * 60 * 1000;

export async function cleanup(now = new Date()) {
  const cutoff = new Date(now.getTime() - KEEP_MS);
  const staleInvitations = await db()
    .delete(invitations)
    .where(or(lt(invitations.expiresAt, cutoff), and(isNotNull(invitations.revokedAt), lt(invitations.revokedAt, cutoff))))
    .returning({ id: invitations.id });
  const staleEnrollTokens = await db()
    .delete(enrollTokens)
    .where(or(lt(enrollTokens.expiresAt, cutoff), and(isNotNull(enrollTokens.usedAt), lt(enrollTokens.usedAt, cutoff))))
    .returning({ id: enrollTokens.id });
  return { invitations: staleInvitations.length, enrollTokens: staleEnrollTokens.length, outboxEvents: await pruneOutbox() };
}
