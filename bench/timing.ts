// p50/p95 of an async call over repeated runs, after a few warm-up runs.
export async function timeRuns(fn: () => Promise<unknown>, runs: number, warmup = 3) {
  const samples: number[] = [];
  for (let i = 0; i < warmup; i++) await fn();
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] as number;
  return { p50: at(0.5), p95: at(0.95) };
}
