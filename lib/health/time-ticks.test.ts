import { describe, expect, it } from 'vitest';
import { timeTicks } from './time-ticks';

const at = (iso: string) => Date.parse(iso);
const labels = (from: string, to: string) => timeTicks(at(from), at(to)).map((t) => t.label);

describe('timeTicks', () => {
  it('ticks a few hours of samples on whole hours, never repeating the date', () => {
    const shown = labels('2026-12-07T13:20:00Z', '2026-12-07T16:05:00Z');
    expect(shown).toEqual(['14:00', '15:00', '16:00']);
  });

  it('names the day at midnight within a day', () => {
    expect(labels('2026-12-06T20:10:00Z', '2026-12-07T03:00:00Z')).toEqual(['21:00', '22:00', '23:00', 'Dec 7 00:00', '01:00', '02:00', '03:00']);
  });

  it('gives a span of more than a day the day with every hour, so the same time twice still differs', () => {
    const shown = labels('2026-12-06T10:00:00Z', '2026-12-07T20:00:00Z');
    expect(shown.length).toBeGreaterThan(2);
    expect(shown.length).toBeLessThanOrEqual(8);
    expect(new Set(shown).size).toBe(shown.length);
    expect(shown[0]).toBe('Dec 6 12:00');
  });

  it('ticks 30 days on days, at most about eight of them, each once', () => {
    const ticks = timeTicks(at('2026-11-07T16:00:00Z'), at('2026-12-07T16:00:00Z'));
    const shown = ticks.map((t) => t.label);
    expect(shown.length).toBeLessThanOrEqual(8);
    expect(new Set(shown).size).toBe(shown.length);
    expect(shown[0]).toBe('Nov 8');
    for (const t of ticks) expect(t.at % 86_400_000).toBe(0);
  });

  it('labels a single moment with its day and hour', () => {
    expect(labels('2026-12-07T16:00:00Z', '2026-12-07T16:00:00Z')).toEqual(['Dec 7 16:00']);
  });
});
