'use client';

import { useEffect, useState } from 'react';

/**
 * The current time, ticking once a second while `ticking`. Null until mounted: the server
 * and the first client render must agree, so live durations appear after hydration.
 */
export function useNow(ticking: boolean): number | null {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    const tick = () => setNow(Date.now());
    // The first reading comes from a timer right after mounting, like the later ones, rather
    // than from a state update inside the effect (a second render within the same commit).
    const first = setTimeout(tick, 0);
    const timer = ticking ? setInterval(tick, 1000) : undefined;
    return () => {
      clearTimeout(first);
      clearInterval(timer);
    };
  }, [ticking]);
  return now;
}
