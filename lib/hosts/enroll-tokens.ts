// One-time enroll tokens: an operator hands one to a new machine, whose agent trades
// it for its long-lived credential (issue 5). Expiring, shown once, revocable.
import { and, eq, isNull, gt } from 'drizzle-orm';
import { recordAudit } from '@/lib/audit/record';
import type { Caller } from '@/lib/auth/caller';
import { generateSecret } from '@/lib/auth/secrets';
import type { Tx } from '@/lib/db/client';
import { enrollTokens, type Host } from '@/lib/db/schema';

export const ENROLL_TOKEN_HOURS = 24;

export async function revokeEnrollTokens(tx: Tx, hostId: string) {
  return tx
    .update(enrollTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(enrollTokens.hostId, hostId), isNull(enrollTokens.usedAt), isNull(enrollTokens.revokedAt)))
    .returning({ id: enrollTokens.id });
}

/** A new token replaces any unused one: only the newest link works. */
export async function issueEnrollToken(tx: Tx, caller: Caller, host: Host) {
  await revokeEnrollTokens(tx, host.id);
  const { secret, hash } = generateSecret('enr');
  const expiresAt = new Date(Date.now() + ENROLL_TOKEN_HOURS * 60 * 60 * 1000);
  const [row] = await tx.insert(enrollTokens).values({ hostId: host.id, tokenHash: hash, createdBy: caller.user.id, expiresAt }).returning({ id: enrollTokens.id });
  await recordAudit(tx, caller, { action: 'host.enroll_token.issue', objectType: 'host', objectId: host.id, after: { tokenId: row?.id, expiresAt } });
  return { token: secret, expiresAt: expiresAt.toISOString() };
}

export async function activeEnrollToken(tx: Tx, hostId: string) {
  const [row] = await tx
    .select({ id: enrollTokens.id, expiresAt: enrollTokens.expiresAt, createdAt: enrollTokens.createdAt })
    .from(enrollTokens)
    .where(and(eq(enrollTokens.hostId, hostId), isNull(enrollTokens.usedAt), isNull(enrollTokens.revokedAt), gt(enrollTokens.expiresAt, new Date())));
  return row ?? null;
}
