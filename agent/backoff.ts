// Exponential backoff with full jitter (AWS's "Exponential Backoff And Jitter"): the
// wait is uniform in [0, min(cap, base·2^attempt)], so agents that lost the same
// server come back spread out instead of all at once.
export function backoffMs(attempt: number, opts: { baseMs?: number; capMs?: number; random?: () => number } = {}): number {
  const base = opts.baseMs ?? 1_000;
  const cap = opts.capMs ?? 5 * 60_000;
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 30));
  return Math.floor((opts.random ?? Math.random)() * ceiling);
}
