// Exponential backoff with full jitter (AWS's "Exponential Backoff And Jitter"): the
// wait is uniform in [0, min(cap, base·2^attempt)], so agents that lost the same
// server come back spread out instead of all at once.
export function backoffMs(attempt: number, opts: { baseMs?: number; capMs?: number; random?: () => number } = {}): number {
  const base = opts.baseMs ?? 1_000;
  const cap = opts.capMs ?? 5 * 60_000;
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 30));
  return Math.floor((opts.random ?? Math.random)() * ceiling);
}

/**
 * The wait a server asked for with `503` and `Retry-After: <seconds>` (it is admitting
 * other agents first), spread over [R, 2R] so a crowd told the same R does not come back
 * in step. Null when the header is absent or not a number of seconds: the usual backoff applies.
 */
export function retryAfterMs(header: string | string[] | undefined, random: () => number = Math.random): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value || !/^\d{1,5}$/.test(value.trim())) return null;
  const seconds = Math.min(Number(value), 3_600);
  return Math.floor(seconds * 1000 * (1 + random()));
}
