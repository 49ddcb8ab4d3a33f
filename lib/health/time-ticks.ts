// Ticks for the overview's time axes. Labels are computed here, in UTC, once: formatting every
// tick as a date made a fleet sampled for a few hours read "Dec 7, Dec 7, Dec 7". A span of
// days gets one tick per day or few days, a shorter one ticks on whole hours, so no two ticks
// ever read the same. Pure and browser-safe: the server computes them, the chart draws them.
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** Hours between ticks, smallest first; 24 hours is a day. */
const HOUR_STEPS = [1, 2, 3, 4, 6, 12];

export type TimeTick = { at: number; label: string };

const day = (d: Date) => `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
const hour = (d: Date) => `${String(d.getUTCHours()).padStart(2, '0')}:00`;

/** Up to about `max` ticks between `from` and `to` (milliseconds), each with a label no other tick has. */
export function timeTicks(from: number, to: number, max = 8): TimeTick[] {
  const span = to - from;
  if (!(span > 0)) return [{ at: from, label: `${day(new Date(from))} ${hour(new Date(from))}` }];
  if (span >= 2 * DAY) {
    const step = Math.ceil(span / DAY / max) * DAY;
    return steps(Math.ceil(from / DAY) * DAY, to, step).map((at) => ({ at, label: day(new Date(at)) }));
  }
  const hours = HOUR_STEPS.find((h) => span / (h * HOUR) <= max) ?? 24;
  // Under a day a time of day names one moment; over a day the same time comes twice.
  const withDay = span >= DAY;
  return steps(Math.ceil(from / (hours * HOUR)) * hours * HOUR, to, hours * HOUR).map((at) => {
    const d = new Date(at);
    return { at, label: withDay || at % DAY === 0 ? `${day(d)} ${hour(d)}` : hour(d) };
  });
}

function steps(first: number, last: number, step: number): number[] {
  const out: number[] = [];
  for (let at = first; at <= last; at += step) out.push(at);
  return out;
}
