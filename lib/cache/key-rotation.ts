// Rotating an organisation's cache signing key (docs/decisions/0017). Agents pin the key
// they got at enrolment and accept another only through a statement signed by the key
// they pin, so a rotation: makes a new pair with Nix, signs "the key after <old> is
// <new>" with the OLD secret key, stores that statement (every welcome carries the
// chain), switches signing to the new key, adds the new key's signature to every
// narinfo already in the cache (so closures that reuse older paths stay fetchable once
// agents stop trusting the old key), and tells connected agents at once.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, asc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { HOST_CHANNEL } from '@/lib/agents/host-events';
import { rotationPayload, type TKeyRotation, type TKeyRotationStatement } from '@/lib/agents/protocol';
import { AppError } from '@/lib/api/errors';
import { recordAudit } from '@/lib/audit/record';
import type { Caller } from '@/lib/auth/caller';
import { seal } from '@/lib/crypto/secret-box';
import { db } from '@/lib/db/client';
import { cacheKeyRotations, cacheObjects, fleetSettings, organizations } from '@/lib/db/schema';
import { ensureCacheKey, generate, secretKeyOf, signWithNixKey } from './keys';
import { narinfoFingerprint } from './narinfo';
import { cacheBackend } from './storage';

export const ZRotateKey = z.strictObject({
  /** How long agents still accept the old key's signatures (pushes under way during the rotation); 0 when the old key may be compromised. */
  keepPreviousKeyHours: z.number().int().min(0).max(720).default(24),
});
export const ZRotateKeyResult = z.object({ previousKey: z.string(), publicKey: z.string(), previousKeyTrustedUntil: z.string().nullable(), resignedNarinfos: z.number().int() });

/** On HOST_CHANNEL, `keys:<org id>`: every server process re-sends welcome to that organisation's agents. */
export const KEY_ROTATION_EVENT = 'keys';

/** The organisation's rotations, oldest first: an agent walks them from the key it pins. */
export async function keyRotationsFor(orgId: string): Promise<TKeyRotation[]> {
  const rows = await db().select().from(cacheKeyRotations).where(eq(cacheKeyRotations.orgId, orgId)).orderBy(asc(cacheKeyRotations.issuedAt)).limit(50);
  return rows.map((r) => ({
    statement: { version: 1, previousKey: r.previousKey, newKey: r.newKey, issuedAt: r.issuedAt.toISOString(), previousKeyTrustedUntil: r.previousKeyTrustedUntil?.toISOString() ?? null },
    signature: r.signature,
  }));
}

/** `flotilla-acme-1` → `flotilla-acme-2`: the name says which key signed a path. */
function nextKeyName(current: string, slug: string) {
  const n = Number(/-(\d+)$/.exec(current)?.[1] ?? '1');
  return `flotilla-${slug}-${n + 1}`;
}

export async function rotateCacheKey(caller: Caller, input: z.infer<typeof ZRotateKey>): Promise<z.infer<typeof ZRotateKeyResult>> {
  const orgId = caller.org.id;
  const current = await ensureCacheKey(orgId);
  const oldSecret = await secretKeyOf(orgId);
  const [org] = await db().select({ slug: organizations.slug }).from(organizations).where(eq(organizations.id, orgId));
  if (!org) throw new AppError('not_found', 'No such organisation');
  const name = nextKeyName(current.name, org.slug);
  const pair = await generate(name);
  const issuedAt = new Date();
  const statement: TKeyRotationStatement = {
    version: 1,
    previousKey: current.publicKey,
    newKey: pair.public,
    issuedAt: issuedAt.toISOString(),
    previousKeyTrustedUntil: input.keepPreviousKeyHours ? new Date(issuedAt.getTime() + input.keepPreviousKeyHours * 3600_000).toISOString() : null,
  };
  // Signed by the key agents pin today: that is what lets them believe the new one.
  const signature = signWithNixKey(oldSecret, rotationPayload(statement));
  await db().transaction(async (tx) => {
    const [changed] = await tx
      .update(fleetSettings)
      .set({ cacheKeyName: name, cachePublicKey: pair.public, cacheSecretKeyEnc: seal(pair.secret), updatedAt: new Date() })
      .where(and(eq(fleetSettings.orgId, orgId), eq(fleetSettings.cachePublicKey, current.publicKey)))
      .returning({ orgId: fleetSettings.orgId });
    if (!changed) throw new AppError('conflict', 'The cache key changed meanwhile (another rotation?); try again');
    await tx.insert(cacheKeyRotations).values({
      orgId,
      previousKey: statement.previousKey,
      newKey: statement.newKey,
      issuedAt,
      previousKeyTrustedUntil: statement.previousKeyTrustedUntil ? new Date(statement.previousKeyTrustedUntil) : null,
      signature,
    });
    await recordAudit(tx, caller, {
      action: 'cache.key.rotate',
      objectType: 'organization',
      objectId: orgId,
      before: { publicKey: current.publicKey },
      after: { publicKey: pair.public, previousKeyTrustedUntil: statement.previousKeyTrustedUntil },
    });
  });
  const resignedNarinfos = await addSignatures(orgId, pair.secret);
  await db().execute(sql`select pg_notify(${HOST_CHANNEL}, ${`${KEY_ROTATION_EVENT}:${orgId}`})`);
  return { previousKey: current.publicKey, publicKey: pair.public, previousKeyTrustedUntil: statement.previousKeyTrustedUntil, resignedNarinfos };
}

/** Adds the key's signature to every narinfo in the organisation's cache (narinfos may carry several Sig lines). Returns how many changed. */
async function addSignatures(orgId: string, nixSecret: string): Promise<number> {
  const backend = cacheBackend();
  const keyName = nixSecret.slice(0, nixSecret.indexOf(':'));
  const rows = await db().select({ storeHash: cacheObjects.storeHash }).from(cacheObjects).where(eq(cacheObjects.orgId, orgId));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-resign-'));
  let changed = 0;
  try {
    for (const { storeHash } of rows) {
      const key = `${storeHash}.narinfo`;
      const text = await backend.readText(orgId, key);
      if (text === null || text.split('\n').some((l) => l.startsWith(`Sig: ${keyName}:`))) continue;
      const fingerprint = narinfoFingerprint(text);
      if (!fingerprint) continue;
      const file = path.join(dir, key);
      await writeFile(file, `${text.replace(/\n*$/, '\n')}Sig: ${keyName}:${signWithNixKey(nixSecret, fingerprint)}\n`);
      await backend.put(orgId, key, file, 'text/x-nix-narinfo');
      changed++;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return changed;
}
