// Host credentials: the long-lived secret an agent gets for its one-time enroll
// token. Only the SHA-256 is stored; rotating or revoking replaces or clears it.
import 'server-only';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { z } from 'zod';
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { generateSecret, hashSecret } from '@/lib/auth/secrets';
import { ensureCacheKey } from '@/lib/cache/keys';
import { batchLoader } from '@/lib/db/batch-loader';
import { db } from '@/lib/db/client';
import { enrollTokens, hosts, type Host } from '@/lib/db/schema';
import { env } from '@/lib/env';
import { ZEnrollRequest } from './protocol';
import { announceCredentialChange } from './host-events';


/** Who an agent's credential names: what the gateway and the cache keep of a host. */
export type HostIdentity = Pick<Host, 'id' | 'name' | 'orgId' | 'credentialHash'>;

// Lookups of the same few milliseconds in one query (a reconnect storm brings thousands a
// second), and only the columns the callers keep, not the host's inventory.
const byCredentialHash = batchLoader<string, HostIdentity | null>(async (hashes) => {
  const rows = await db()
    .select({ id: hosts.id, name: hosts.name, orgId: hosts.orgId, credentialHash: hosts.credentialHash })
    .from(hosts)
    .where(and(sql`${hosts.credentialHash} = any(${sql.param([...hashes])}::text[])`, isNull(hosts.retiredAt)));
  const found = new Map(rows.map((r) => [r.credentialHash, r]));
  return hashes.map((h) => found.get(h) ?? null);
});

export async function hostFromCredential(secret: string): Promise<HostIdentity | null> {
  if (!secret.startsWith('hst_')) return null;
  return byCredentialHash.load(hashSecret(secret));
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
