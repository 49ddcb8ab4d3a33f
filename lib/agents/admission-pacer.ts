// What to tell an agent refused at the door (503) about when to come back. A fixed
// `Retry-After: 2` let a crowd of 19,000 knock ~6,000 times a second while ~100 a second got
// in: the server spent its time refusing. The crowd is estimated from the refusals themselves
// (each waiting agent knocks about once per 1.5 × what it was told: agents wait [R, 2R]), and
// each refused agent gets a wait spread over the time the crowd needs to get in at the rate
// agents are being admitted, so the knocking stays near the admission rate.

const WINDOW_SECONDS = 5;
/**
 * The admission rate assumed at least (agents a second). Right after a restart few are admitted
 * yet; measured then, the rate would send the whole crowd away for a minute while the server
 * idles (seen: 20 admissions a second where 150 were possible).
 */
const RATE_FLOOR = 200;

type Bucket = { second: number; admitted: number; refused: number; told: number };

export class AdmissionPacer {
  private buckets: Bucket[] = [];

  constructor(
    private opts: { minSeconds?: number; maxSeconds?: number; now?: () => number; random?: () => number } = {},
  ) {}

  /** An agent got in (its hello was admitted). */
  admitted() {
    this.bucket().admitted += 1;
  }

  /** An upgrade is refused now: the seconds for its Retry-After. */
  refused(): number {
    const min = this.opts.minSeconds ?? 2;
    const max = this.opts.maxSeconds ?? 20;
    const { admitted, refused, told } = this.totals();
    const rate = Math.max(RATE_FLOOR, admitted / WINDOW_SECONDS);
    // Agents waiting outside: refusals a second × how often each of them knocks.
    const crowd = refused === 0 ? 0 : (refused / WINDOW_SECONDS) * 1.5 * (told / refused);
    const span = crowd / rate;
    const seconds = Math.max(min, Math.min(max, Math.round(min + (this.opts.random ?? Math.random)() * (span / 1.5))));
    const b = this.bucket();
    b.refused += 1;
    b.told += seconds;
    return seconds;
  }

  private totals() {
    const from = this.second() - WINDOW_SECONDS;
    this.buckets = this.buckets.filter((b) => b.second > from);
    return this.buckets.reduce((t, b) => ({ admitted: t.admitted + b.admitted, refused: t.refused + b.refused, told: t.told + b.told }), { admitted: 0, refused: 0, told: 0 });
  }

  private second() {
    return Math.floor((this.opts.now ?? Date.now)() / 1000);
  }

  private bucket(): Bucket {
    const second = this.second();
    let b = this.buckets.at(-1);
    if (b?.second !== second) {
      b = { second, admitted: 0, refused: 0, told: 0 };
      this.buckets.push(b);
      if (this.buckets.length > WINDOW_SECONDS * 4) this.buckets.splice(0, this.buckets.length - WINDOW_SECONDS);
    }
    return b;
  }
}
