import { describe, expect, it } from 'vitest';
import { backoffMs, retryAfterMs } from './backoff';

describe('backoffMs', () => {
  it('grows exponentially to the cap, with full jitter', () => {
    expect(backoffMs(0, { random: () => 0.999 })).toBe(999);
    expect(backoffMs(3, { random: () => 0.5 })).toBe(4_000);
    expect(backoffMs(40, { random: () => 0.999 })).toBe(299_700);
    expect(backoffMs(5, { random: () => 0 })).toBe(0);
  });

  it('spreads a crowd out', () => {
    const waits = Array.from({ length: 1000 }, () => backoffMs(4));
    const buckets = new Set(waits.map((w) => Math.floor(w / 1600)));
    expect(buckets.size).toBe(10);
  });
});

describe('retryAfterMs', () => {
  it('waits between R and 2R for a 503 with Retry-After, and ignores what is not seconds', () => {
    expect(retryAfterMs('3', () => 0)).toBe(3_000);
    expect(retryAfterMs(['3'], () => 0.5)).toBe(4_500);
    expect(retryAfterMs(undefined)).toBeNull();
    expect(retryAfterMs('Wed, 21 Oct 2026 07:28:00 GMT')).toBeNull();
    expect(retryAfterMs('-1')).toBeNull();
    expect(retryAfterMs('99999', () => 0)).toBe(3_600_000);
  });
});
