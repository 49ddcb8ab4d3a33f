// The webhook signature (docs/decisions/0011-webhooks.md): HMAC-SHA256 over
// "<unix seconds>.<raw body>" keyed with the webhook's secret (the whole string, prefix
// included, as UTF-8). Binding the timestamp into the MAC lets receivers refuse
// replays of an old delivery without a nonce store.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-flotilla-signature';
export const TIMESTAMP_HEADER = 'x-flotilla-timestamp';
export const EVENT_HEADER = 'x-flotilla-event';
export const DELIVERY_HEADER = 'x-flotilla-delivery';

/** A new signing secret: 32 random bytes, shown once. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export function signBody(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/**
 * What a receiver does, in TypeScript: recompute the signature and compare in constant
 * time, and refuse timestamps more than `toleranceSeconds` away from its clock.
 */
export function verifySignature(opts: { secret: string; body: string; timestamp: string; signature: string; toleranceSeconds?: number; now?: number }): boolean {
  const ts = Number(opts.timestamp);
  if (!Number.isInteger(ts)) return false;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > (opts.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signBody(opts.secret, ts, opts.body));
  const given = Buffer.from(opts.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
