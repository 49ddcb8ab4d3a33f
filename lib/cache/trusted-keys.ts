// The CI keys an organisation trusts: when it lists any, a closure pushed over HTTP must
// carry a valid signature by one of them (upload.ts), so a leaked cache.write token
// alone cannot put a system into the cache. Agents keep trusting only the fleet key.
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { recordAudit } from '@/lib/audit/record';
import type { Caller } from '@/lib/auth/caller';
import { db } from '@/lib/db/client';
import { fleetSettings } from '@/lib/db/schema';
import { parsePublicKey } from './narinfo';

export const ZTrustedKeys = z.strictObject({
  keys: z
    .array(
      z
        .string()
        .trim()
        .refine((k) => parsePublicKey(k) !== null, 'Not a Nix public key (name:base64 of 32 bytes, as `nix-store --generate-binary-cache-key` writes it)'),
    )
    .max(20, 'At most 20 keys'),
});
export const ZTrustedKeysView = z.object({ keys: z.array(z.string()) });

export async function trustedKeys(orgId: string): Promise<string[]> {
  const [row] = await db().select({ keys: fleetSettings.cacheTrustedKeys }).from(fleetSettings).where(eq(fleetSettings.orgId, orgId));
  return row?.keys ?? [];
}

export async function setTrustedKeys(caller: Caller, keys: string[]) {
  const unique = [...new Set(keys)];
  return db().transaction(async (tx) => {
    const [before] = await tx.select({ keys: fleetSettings.cacheTrustedKeys }).from(fleetSettings).where(eq(fleetSettings.orgId, caller.org.id)).for('update');
    await tx
      .insert(fleetSettings)
      .values({ orgId: caller.org.id, cacheTrustedKeys: unique })
      .onConflictDoUpdate({ target: fleetSettings.orgId, set: { cacheTrustedKeys: unique, updatedAt: new Date() } });
    await recordAudit(tx, caller, { action: 'cache.trusted-keys', objectType: 'organization', objectId: caller.org.id, before: { keys: before?.keys ?? [] }, after: { keys: unique } });
    return { keys: unique };
  });
}
