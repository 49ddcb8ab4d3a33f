import { describe, expect, it } from 'vitest';
import { ZRollout, ZRolloutInput } from '@/lib/db/json-types';
import { effectiveStrategy, limitsFor, outsideWindow, planWaves, resolveCount, windowOpen } from './strategy';

const host = (name: string, online = true, tags: string[] = []) => ({ id: name, name, online, tags });
const utc = (iso: string) => new Date(`${iso}Z`);

describe('counts and percentages', () => {
  it('rounds canaries and places in flight up, tolerated failures down', () => {
    expect(resolveCount('25%', 3, 'up')).toBe(1);
    expect(resolveCount('25%', 3, 'down')).toBe(0);
    expect(resolveCount('10%', 20, 'up')).toBe(2);
    expect(resolveCount(7, 3, 'up')).toBe(3);
    const limits = limitsFor(ZRollout.parse({ canaries: '0%', maxInFlight: '0%', maxFailures: '50%' }), 5);
    // At least one host at a time, or the rollout could never move.
    expect(limits).toEqual({ canaries: 0, maxInFlight: 1, maxFailures: 2 });
  });

  it('refuses malformed shares', () => {
    expect(ZRollout.safeParse({ maxInFlight: '150%' }).success).toBe(false);
    expect(ZRollout.safeParse({ maxInFlight: 'lots' }).success).toBe(false);
    expect(ZRollout.safeParse({ canaries: -1 }).success).toBe(false);
    expect(ZRollout.safeParse({ surprise: 1 }).success).toBe(false);
  });

  it('lays the request over the organisation defaults, and ignores defaults that no longer parse', () => {
    expect(effectiveStrategy({ canaries: 3, watchSeconds: 10 }, { canaries: 1 })).toMatchObject({ canaries: 1, watchSeconds: 10, maxInFlight: '25%' });
    expect(effectiveStrategy({ canaries: 'many' }, {})).toMatchObject({ canaries: 1 });
    // A request's partial rollout, parsed at the API boundary, must not bring back built-in defaults.
    const requested = ZRolloutInput.parse({ canaries: 2 });
    expect(requested).toEqual({ canaries: 2 });
    expect(effectiveStrategy({ watchSeconds: 5, onFailure: 'rollback-all' }, requested)).toMatchObject({ canaries: 2, watchSeconds: 5, onFailure: 'rollback-all' });
  });
});

describe('waves', () => {
  const strategy = ZRollout.parse({ canaries: 2, maxInFlight: 3 });

  it('takes canary-tagged hosts first, then online ones, then by name; the rest go in waves of maxInFlight', () => {
    const hosts = [host('e'), host('a', false), host('d'), host('c', true, ['canary']), host('b'), host('f'), host('g')];
    const { waves, limits } = planWaves(hosts, strategy);
    expect(limits.canaries).toBe(2);
    expect(waves.map((w) => w.map((h) => h.name))).toEqual([['c', 'b'], ['a', 'd', 'e'], ['f', 'g']]);
  });

  it('plans the same waves for the same hosts in any order', () => {
    const hosts = ['h3', 'h1', 'h5', 'h2', 'h4'].map((n) => host(n));
    const one = planWaves(hosts, strategy).waves.map((w) => w.map((h) => h.name));
    const two = planWaves([...hosts].reverse(), strategy).waves.map((w) => w.map((h) => h.name));
    expect(one).toEqual(two);
  });

  it('has an empty canary wave when there are no canaries', () => {
    const { waves } = planWaves([host('a'), host('b')], ZRollout.parse({ canaries: 0, maxInFlight: 1 }));
    expect(waves.map((w) => w.length)).toEqual([0, 1, 1]);
  });
});

describe('maintenance windows (UTC)', () => {
  const nightly = { tag: 'db', start: '22:00', end: '04:00', days: [] };
  const weekdays = { tag: 'web', start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] };

  it('opens a same-day window on its days only', () => {
    expect(windowOpen(weekdays, utc('2026-11-23T10:00:00'))).toBe(true); // Monday
    expect(windowOpen(weekdays, utc('2026-11-23T17:00:00'))).toBe(false);
    expect(windowOpen(weekdays, utc('2026-11-22T10:00:00'))).toBe(false); // Sunday
  });

  it('runs a window that ends before it starts past midnight, counting the day it started', () => {
    expect(windowOpen(nightly, utc('2026-11-23T23:30:00'))).toBe(true);
    expect(windowOpen(nightly, utc('2026-11-24T03:59:00'))).toBe(true);
    expect(windowOpen(nightly, utc('2026-11-24T04:00:00'))).toBe(false);
    const fridayNight = { ...nightly, days: [5] };
    expect(windowOpen(fridayNight, utc('2026-11-28T02:00:00'))).toBe(true); // Saturday morning, Friday's window
    expect(windowOpen(fridayNight, utc('2026-11-29T02:00:00'))).toBe(false); // Sunday morning
  });

  it('holds only hosts carrying a tag with windows, and says why', () => {
    const at = utc('2026-11-23T12:00:00');
    expect(outsideWindow(['web'], [nightly, weekdays], at)).toBeNull();
    expect(outsideWindow(['db'], [nightly, weekdays], at)).toMatch(/maintenance window \(tag db: daily 22:00–04:00 UTC\)/);
    expect(outsideWindow(['other'], [nightly], at)).toBeNull();
  });
});
