import { describe, expect, it } from 'vitest';
import { AdmissionPacer } from './admission-pacer';

/** Runs `seconds` of a crowd: `knocks` refusals and `admits` admissions a second. */
function run(pacer: AdmissionPacer, clock: { t: number }, seconds: number, knocks: number, admits: number) {
  const told: number[] = [];
  for (let s = 0; s < seconds; s++) {
    for (let i = 0; i < admits; i++) pacer.admitted();
    for (let i = 0; i < knocks; i++) told.push(pacer.refused());
    clock.t += 1000;
  }
  return told;
}

describe('AdmissionPacer', () => {
  it('tells a lone refused agent the minimum', () => {
    const clock = { t: 0 };
    const pacer = new AdmissionPacer({ now: () => clock.t, random: () => 1 });
    expect(pacer.refused()).toBe(2);
  });

  it('spreads a crowd over the time it needs to get in at the admission rate, up to the maximum', () => {
    const clock = { t: 0 };
    const pacer = new AdmissionPacer({ now: () => clock.t, random: () => 1 });
    // 19,000 agents told 2 s knock ~6,000 times a second while 100 a second get in: the
    // crowd needs more than the longest wait.
    const told = run(pacer, clock, 6, 6_000, 100);
    const last = told.at(-1) as number;
    expect(last).toBe(20);
    // A spread, not one value for all: the draw decides between the minimum and the span.
    const low = new AdmissionPacer({ now: () => clock.t, random: () => 0 });
    run(low, clock, 6, 6_000, 100);
    expect(low.refused()).toBe(2);
  });

  it('comes back down when the crowd is in', () => {
    const clock = { t: 0 };
    const pacer = new AdmissionPacer({ now: () => clock.t, random: () => 1 });
    run(pacer, clock, 6, 6_000, 100);
    run(pacer, clock, 6, 0, 100);
    expect(pacer.refused()).toBe(2);
  });

  it('does not stretch the wait while the server admits as fast as agents knock', () => {
    const clock = { t: 0 };
    const pacer = new AdmissionPacer({ now: () => clock.t, random: () => 1 });
    const told = run(pacer, clock, 10, 50, 300);
    expect(Math.max(...told)).toBeLessThanOrEqual(3);
  });
});
