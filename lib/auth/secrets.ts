// Random bearer secrets (API tokens, invitations, enroll tokens, host credentials).
// They carry 256 bits of entropy, so a plain SHA-256 is a safe way to store them and
// lets us look them up by hash; passwords, which people choose, use argon2 instead.
import 'server-only';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type SecretKind = 'flt' | 'inv' | 'enr' | 'hst';

export function generateSecret(kind: SecretKind): { secret: string; hash: string; prefix: string } {
  const secret = `${kind}_${randomBytes(32).toString('base64url')}`;
  return { secret, hash: hashSecret(secret), prefix: secret.slice(0, 12) };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
