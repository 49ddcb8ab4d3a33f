// Binding handlers to job specs, and registering them with a pg-boss instance: the one
// way jobs are run, by worker.ts and by the tests that run jobs.
import type PgBoss from 'pg-boss';
import { sqlClient } from '@/lib/db/client';
import { JOB_SENT_CHANNEL, sendOn } from './queue';
import { InvalidJobPayload, parsePayload, type JobData, type JobPayload, type JobSpec } from './spec';

/** A job the worker can run: its spec, and a handler that receives only payloads its schema accepts. */
export type Job = {
  readonly spec: JobSpec;
  readonly name: string;
  run: (raw: unknown) => Promise<unknown>;
};

/** One definition per job: the spec (name, version, payload, retry, schedule) and its handler. */
export function defineJob<J extends JobSpec>(spec: J, handler: (data: JobData<J>) => Promise<unknown>): Job {
  return { spec, name: spec.name, run: async (raw) => handler(parsePayload(spec, raw)) };
}

export type RegisterOptions = {
  /** pg-boss polls each queue this often (2 s by default; tests poll faster). */
  pollingIntervalSeconds?: number;
  /** Off: the jobs run when sent, but nothing is sent on a schedule (tests that send their own). */
  schedules?: boolean;
};

/**
 * Creates each job's queue, works it, and schedules it. A payload the job's schema
 * refuses fails that job, with the schema's message as pg-boss's output and a log line;
 * a handler's error fails it too, and pg-boss retries it by the job's retry policy.
 */
export async function registerJobs(boss: PgBoss, jobs: readonly Job[], opts: RegisterOptions = {}): Promise<{ stop: () => void }> {
  const timers: NodeJS.Timeout[] = [];
  const workers = new Map<string, string[]>();
  for (const job of jobs) {
    const { spec } = job;
    await boss.createQueue(spec.queue);
    const workerId = await boss.work(spec.queue, { pollingIntervalSeconds: opts.pollingIntervalSeconds ?? 2 }, async (batch) => {
      for (const item of batch) {
        try {
          await job.run(item.data);
        } catch (error) {
          if (error instanceof InvalidJobPayload) console.error(`[worker] job ${item.id} refused: ${error.message}`);
          throw error;
        }
      }
    });
    workers.set(spec.queue, [...(workers.get(spec.queue) ?? []), workerId]);
    const schedule = spec.schedule;
    if (!schedule || opts.schedules === false) continue;
    // A scheduled job runs with an empty payload: a schema that refuses one is a mistake found here, not at the first tick.
    const empty = parsePayload(spec, {}) as JobPayload<typeof spec>;
    if ('cron' in schedule) {
      await boss.schedule(spec.queue, schedule.cron, empty as object, { tz: 'UTC', ...spec.retry });
      continue;
    }
    const every = typeof schedule.everySeconds === 'function' ? schedule.everySeconds() : schedule.everySeconds;
    const tick = () =>
      sendOn(boss, spec, empty, { singletonKey: 'schedule', singletonSeconds: every }).catch((error: unknown) => console.error(`[worker] could not send ${spec.queue}`, error));
    void tick();
    timers.push(setInterval(tick, every * 1000));
  }
  // A job sent from any process wakes this one's worker of its queue at once (queue.ts),
  // instead of waiting up to a polling interval: a build starts when it is asked for.
  const listening = await sqlClient().listen(JOB_SENT_CHANNEL, (queueName) => {
    for (const id of workers.get(queueName) ?? []) boss.notifyWorker(id);
  });
  return {
    stop: () => {
      timers.forEach(clearInterval);
      void listening.unlisten().catch(() => {});
    },
  };
}
