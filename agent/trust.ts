// Whom the agent trusts (docs/decisions/0017): the fleet key and the cache URL are pinned
// at enrolment; the server may tell the agent what to activate, never whom to trust. A
// key changes only through a rotation statement signed by the key the agent pins now.
import { createPublicKey, verify } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import { rotationPayload, ZNixPublicKey, type TKeyRotation, type TWelcome } from '@/lib/agents/protocol';

/** `keys[0]` is the current key (it alone may sign the next rotation); later ones are earlier keys still accepted until `trustedUntil`. */
export const ZPinnedTrust = z.object({
  cacheUrl: z.url(),
  keys: z.array(z.object({ publicKey: ZNixPublicKey, trustedUntil: z.iso.datetime().nullable() })).min(1),
});
export type PinnedTrust = z.infer<typeof ZPinnedTrust>;

export class TrustError extends Error {}

/** 127.0.0.0/8, ::1 and localhost: plain HTTP there never leaves the machine. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * The server's URL, checked: https (or http on loopback, or anywhere when the host's own
 * config says allowInsecure). The WebSocket follows the same rule, as wss/ws.
 */
export function checkServerUrl(raw: string, allowInsecure: boolean): URL {
  const url = new URL(raw);
  if (url.protocol === 'https:' || url.protocol === 'wss:') return url;
  if (url.protocol === 'http:' || url.protocol === 'ws:') {
    if (allowInsecure || isLoopback(url.hostname)) return url;
    throw new TrustError(`refusing ${url.protocol}//${url.host}: plain HTTP is only for loopback; use https, or set allowInsecure in this host's agent config`);
  }
  throw new TrustError(`refusing ${url.protocol} server URL: only https (or http on loopback) is allowed`);
}

/** A binary cache URL: http(s) only (never file:// or another store type), with the same transport rule as the server. */
export function checkCacheUrl(raw: string, allowInsecure: boolean): URL {
  const url = new URL(raw);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TrustError(`refusing the cache URL ${url.protocol}…: only http(s) binary caches are allowed`);
  if (url.search || url.hash || url.username || url.password) throw new TrustError('refusing a cache URL with a query, fragment or credentials in it');
  return checkServerUrl(url.href, allowInsecure);
}

/** Keys whose signatures the agent accepts now. */
export function trustedKeys(trust: PinnedTrust, now = new Date()): string[] {
  return trust.keys.filter((k, i) => i === 0 || (k.trustedUntil !== null && new Date(k.trustedUntil) > now)).map((k) => k.publicKey);
}

/** A Nix public key (`name:base64`) as a node:crypto key. */
function ed25519Key(nixKey: string) {
  const raw = Buffer.from(nixKey.slice(nixKey.indexOf(':') + 1), 'base64');
  if (raw.length !== 32) throw new TrustError(`${nixKey.split(':')[0]} is not a 32-byte ed25519 key`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** Whether `signer` signed this rotation (and the rotation starts from `signer`). */
export function verifyRotation(signer: string, rotation: TKeyRotation): boolean {
  if (rotation.statement.previousKey !== signer) return false;
  try {
    return verify(null, rotationPayload(rotation.statement), ed25519Key(signer), Buffer.from(rotation.signature, 'base64'));
  } catch {
    return false;
  }
}

export type WelcomeVerdict = {
  /** What the agent trusts after this welcome (the same object when nothing changed). */
  trust: PinnedTrust;
  /** Rotations verified and applied: only then is anything persisted. */
  rotated: string[];
  /** Why parts of the welcome were refused (logged; nothing from them is used or saved). */
  refused: string[];
};

/**
 * Reads a welcome against the pinned trust: rotations signed by the current key are
 * applied in order; a cache URL on another origin, or a key that is not the (possibly
 * rotated) current key, is refused. The welcome's values are never adopted directly.
 */
export function judgeWelcome(pinned: PinnedTrust, welcome: TWelcome, now = new Date()): WelcomeVerdict {
  const refused: string[] = [];
  const rotated: string[] = [];
  let trust = pinned;
  for (const rotation of welcome.keyRotations) {
    const current = trust.keys[0]?.publicKey as string;
    const { previousKey, newKey, previousKeyTrustedUntil } = rotation.statement;
    // Rotations the agent applied already, or that start from a key it never pinned, say nothing to it.
    if (previousKey !== current || newKey === current) continue;
    if (!verifyRotation(current, rotation)) {
      refused.push(`a key rotation to ${newKey.split(':')[0]} is not signed by the pinned key ${current.split(':')[0]}`);
      continue;
    }
    const keepPrevious = previousKeyTrustedUntil && new Date(previousKeyTrustedUntil) > now ? [{ publicKey: current, trustedUntil: previousKeyTrustedUntil }] : [];
    trust = { ...trust, keys: [{ publicKey: newKey, trustedUntil: null }, ...keepPrevious] };
    rotated.push(`${current.split(':')[0]} → ${newKey.split(':')[0]}`);
  }
  const current = trust.keys[0]?.publicKey;
  if (welcome.cachePublicKey !== current) refused.push(`the server names the key ${welcome.cachePublicKey.split(':')[0] || '(none)'}, but this agent pins ${current?.split(':')[0]} and no rotation signed by it leads there`);
  let origin = 'null';
  try {
    origin = new URL(welcome.cacheUrl).origin;
  } catch {
    // An unparseable URL has no origin: refused below like any other.
  }
  if (origin !== new URL(pinned.cacheUrl).origin) refused.push(`the server names the cache ${welcome.cacheUrl.slice(0, 200)}, but this agent pins ${new URL(pinned.cacheUrl).origin}`);
  return { trust, rotated, refused };
}
