// A job sent from another process starts at once, not at the worker's next poll: the
// sender NOTIFYs the queue's name and the worker wakes its worker of that queue
// (lib/jobs/queue.ts, lib/jobs/register.ts). bench/deploy.ts found builds waiting
// 0.8 s (p50; up to the 2 s polling interval) between being queued and being claimed.
import { randomUUID } from 'node:crypto';
import PgBoss from 'pg-boss';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { BOSS_SCHEMA, sendJob } from '@/lib/jobs/queue';
import { defineJob, registerJobs } from '@/lib/jobs/register';
import { jobSpec } from '@/lib/jobs/spec';
import { until } from './agent-harness';

const POLL_SECONDS = 30;
const spec = jobSpec({ name: `wake-test-${randomUUID().slice(0, 8)}`, version: 1, payload: z.object({ n: z.number() }), retry: { retryLimit: 0, retryDelay: 0, retryBackoff: false, expireInSeconds: 60 } });
const ran = new Map<number, number>();
let worker: PgBoss;
let registered: { stop: () => void };

afterAll(async () => {
  registered?.stop();
  await worker?.stop({ graceful: false, wait: true });
});

describe('waking the worker', () => {
  it('runs a sent job well within the polling interval, every time', async () => {
    worker = new PgBoss({ connectionString: process.env.DATABASE_URL, schema: BOSS_SCHEMA, max: 2, application_name: 'wake-test-worker' });
    await worker.start();
    registered = await registerJobs(worker, [defineJob(spec, async ({ n }) => void ran.set(n, Date.now()))], { pollingIntervalSeconds: POLL_SECONDS, schedules: false });
    // The worker's first fetch happens at once; from then on only a wake-up (or 30 s) brings the next.
    await new Promise((r) => setTimeout(r, 500));
    for (let n = 0; n < 3; n++) {
      const sent = Date.now();
      expect(await sendJob(spec, { n })).toBeTruthy();
      const at = await until(`job ${n} to run`, async () => ran.get(n), 10_000);
      expect(at - sent).toBeLessThan(3_000);
    }
  });
});
