// The binary cache signing key of an organisation: generated with Nix on first use,
// public half shown in settings and sent to agents, secret half sealed in the database.
// Rotation (a new pair, announced by a statement the old one signs) is key-rotation.ts.
import 'server-only';
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq, isNull } from 'drizzle-orm';
import { open, seal } from '@/lib/crypto/secret-box';
import { db } from '@/lib/db/client';
import { fleetSettings, organizations } from '@/lib/db/schema';
import { runNix } from '@/lib/nix/run';

export type CacheKey = { name: string; publicKey: string };

export async function generate(name: string): Promise<{ secret: string; public: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-key-'));
  try {
    const result = await runNix('nix-store', ['--generate-binary-cache-key', name, path.join(dir, 'sec'), path.join(dir, 'pub')]);
    if (result.code !== 0) throw new Error(`nix-store --generate-binary-cache-key failed: ${result.stderr.trim()}`);
    return { secret: (await readFile(path.join(dir, 'sec'), 'utf8')).trim(), public: (await readFile(path.join(dir, 'pub'), 'utf8')).trim() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The organisation's key, made now if it has none. Concurrent callers agree on one key. */
export async function ensureCacheKey(orgId: string): Promise<CacheKey> {
  const [existing] = await db().select().from(fleetSettings).where(eq(fleetSettings.orgId, orgId));
  if (existing?.cachePublicKey && existing.cacheKeyName) return { name: existing.cacheKeyName, publicKey: existing.cachePublicKey };
  const [org] = await db().select({ slug: organizations.slug }).from(organizations).where(eq(organizations.id, orgId));
  if (!org) throw new Error(`organisation ${orgId} does not exist`);
  const name = `flotilla-${org.slug}-1`;
  const pair = await generate(name);
  await db()
    .insert(fleetSettings)
    .values({ orgId, cacheKeyName: name, cachePublicKey: pair.public, cacheSecretKeyEnc: seal(pair.secret) })
    .onConflictDoUpdate({
      target: fleetSettings.orgId,
      set: { cacheKeyName: name, cachePublicKey: pair.public, cacheSecretKeyEnc: seal(pair.secret) },
      setWhere: isNull(fleetSettings.cachePublicKey),
    });
  const [row] = await db().select().from(fleetSettings).where(eq(fleetSettings.orgId, orgId));
  if (!row?.cachePublicKey || !row.cacheKeyName) throw new Error('cache key was not stored');
  return { name: row.cacheKeyName, publicKey: row.cachePublicKey };
}

/** Writes the secret key to a private temporary file for one `nix copy`, and removes it after. */
export async function withSecretKeyFile<T>(orgId: string, use: (file: string) => Promise<T>): Promise<T> {
  const secret = await secretKeyOf(orgId);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-sign-'));
  const file = path.join(dir, 'secret-key');
  try {
    await writeFile(file, secret, { mode: 0o600 });
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The organisation's secret key as Nix stores it (`name:base64(64 bytes)`), for signing in this process. */
export async function secretKeyOf(orgId: string): Promise<string> {
  await ensureCacheKey(orgId);
  const [row] = await db().select({ sealed: fleetSettings.cacheSecretKeyEnc }).from(fleetSettings).where(eq(fleetSettings.orgId, orgId));
  if (!row?.sealed) throw new Error('no cache secret key');
  return open(row.sealed);
}

/**
 * A Nix secret key as a node:crypto ed25519 key. Nix's 64 bytes are libsodium's secret
 * key: the 32-byte seed, then the public key.
 */
function ed25519SecretKey(nixSecret: string): KeyObject {
  const raw = Buffer.from(nixSecret.slice(nixSecret.indexOf(':') + 1), 'base64');
  if (raw.length !== 64) throw new Error('not a Nix ed25519 secret key');
  return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: raw.subarray(0, 32).toString('base64url'), x: raw.subarray(32).toString('base64url') }, format: 'jwk' });
}

/** A detached ed25519 signature by a Nix secret key, base64 (what Nix writes after `name:` in a narinfo's Sig). */
export function signWithNixKey(nixSecret: string, data: Buffer | string): string {
  return sign(null, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, ed25519SecretKey(nixSecret)).toString('base64');
}

/** At start: every organisation gets its key before anyone needs it. */
export async function ensureAllCacheKeys() {
  const orgs = await db().select({ id: organizations.id }).from(organizations);
  for (const org of orgs) await ensureCacheKey(org.id);
}
