'use client';

import { useEffect, useState } from 'react';

/**
 * The current time, ticking once a second while `ticking`. Null until mounted: the server
 * and the first client render must agree, so live durations appear after hydration.
 */
export function useNow(ticking: boolean): number | null {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    setNow(Date.now());
    if (!ticking) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}
