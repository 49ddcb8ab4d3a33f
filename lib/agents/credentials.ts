// Host credentials: the long-lived secret an agent gets for its one-time enroll
// token. Only the SHA-256 is stored; rotating or revoking replaces or clears it.
import 'server-only';
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { z } from 'zod';
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { generateSecret, hashSecret } from '@/lib/auth/secrets';
import { ensureCacheKey } from '@/lib/cache/keys';
import { db } from '@/lib/db/client';
import { enrollTokens, hosts, type Host } from '@/lib/db/schema';
import { env } from '@/lib/env';
import { ZEnrollRequest } from './protocol';
import { announceCredentialChange } from './host-events';


export async function hostFromCredential(secret: string): Promise<Host | null> {
  if (!secret.startsWith('hst_')) return null;
  const [host] = await db()
    .select()
    .from(hosts)
    .where(and(eq(hosts.credentialHash, hashSecret(secret)), isNull(hosts.retiredAt)));
  return host ?? null;
}

/** Trades a valid, unused enroll token for a new host credential (the old one, if any, stops working). */
export async function enrollHost(input: z.infer<typeof ZEnrollRequest>, ip?: string) {
  const { secret, hash } = generateSecret('hst');
  const result = await db().transaction(async (tx) => {
    const [token] = await tx
      .select()
      .from(enrollTokens)
      .where(and(eq(enrollTokens.tokenHash, hashSecret(input.token)), isNull(enrollTokens.usedAt), isNull(enrollTokens.revokedAt), gt(enrollTokens.expiresAt, new Date())))
      .for('update');
    if (!token) throw new AppError('unauthorized', 'This enroll token is invalid, expired, revoked or already used');
    const [host] = await tx
      .update(hosts)
      .set({ credentialHash: hash, enrolledAt: new Date(), agentVersion: input.agentVersion ?? null })
      .where(and(eq(hosts.id, token.hostId), isNull(hosts.retiredAt)))
      .returning();
    if (!host) throw new AppError('unauthorized', 'The host of this enroll token was retired');
    await tx.update(enrollTokens).set({ usedAt: new Date() }).where(eq(enrollTokens.id, token.id));
    await recordAudit(tx, { system: 'agent', orgId: host.orgId, ip }, { action: 'host.enroll', objectType: 'host', objectId: host.id, after: { agentVersion: input.agentVersion ?? null } });
    // A host that enrols again gets a new credential: any socket on the old one is cut off.
    await announceCredentialChange(tx, host.id);
    return host;
  });
  const key = await ensureCacheKey(result.orgId);
  return { host: result.name, credential: secret, cache: { url: `${env().publicUrl}/cache`, publicKey: key.publicKey } };
}

/** Operators end a host's credential; its agent must enrol again with a new token. */
export async function revokeHostCredential(caller: Caller, host: Host) {
  await db().transaction(async (tx) => {
    await tx.update(hosts).set({ credentialHash: null, enrolledAt: null, online: false }).where(eq(hosts.id, host.id));
    await recordAudit(tx, caller, { action: 'host.credential.revoke', objectType: 'host', objectId: host.id });
    await announceCredentialChange(tx, host.id);
  });
}

/** The host's credential is no longer `credentialHash` (revoked or rotated), or the host was retired. */
export async function credentialEnded(hostId: string, credentialHash: string): Promise<boolean> {
  const [row] = await db().select({ credentialHash: hosts.credentialHash, retiredAt: hosts.retiredAt }).from(hosts).where(eq(hosts.id, hostId));
  return !row || row.retiredAt !== null || row.credentialHash !== credentialHash;
}
