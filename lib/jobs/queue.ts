// Sending jobs from any process (the web server, the worker): one small pg-boss
// client per process that runs no workers and no schedules. Senders are typed against
// the job's payload schema and the payload is parsed before it is sent, so a job the
// worker would refuse is never queued.
import PgBoss from 'pg-boss';
import { parsePayload, type JobPayload, type JobSpec, type RetryPolicy } from './spec';

const globalForQueue = globalThis as unknown as { flotillaQueue?: Promise<PgBoss> };

export const BOSS_SCHEMA = 'pgboss';
/** NOTIFY channel whose payload names the queue a job was just sent to. */
export const JOB_SENT_CHANNEL = 'flotilla_job_sent';

async function startSender(): Promise<PgBoss> {
  const connectionString = process.env.DATABASE_URL;
  if (!connectionString) throw new Error('DATABASE_URL is not set');
  // pg-boss runs its own transactions, which postgres.js only allows on reserved connections: it keeps its own small pool.
  const boss = new PgBoss({ connectionString, schema: BOSS_SCHEMA, max: 2, application_name: 'flotilla-queue', supervise: false, schedule: false });
  boss.on('error', (error) => console.error('[queue] pg-boss error', error));
  await boss.start();
  return boss;
}

export function queue(): Promise<PgBoss> {
  globalForQueue.flotillaQueue ??= startSender().catch((error) => {
    globalForQueue.flotillaQueue = undefined;
    throw error;
  });
  return globalForQueue.flotillaQueue;
}

export type SendJobOptions = {
  /** A deterministic job id (an entity's id): sending twice queues one job. */
  id?: string;
  /** With singletonSeconds: at most one job with this key per interval (pg-boss's throttle). */
  singletonKey?: string;
  singletonSeconds?: number;
  startAfter?: number | string | Date;
  /** Changes to the job's retry policy for this send (a sender whose policy is configurable). */
  retry?: Partial<RetryPolicy>;
};

/** pg-boss's options for a send: the job's retry policy under the sender's changes. */
export function sendOptions(spec: JobSpec, options: SendJobOptions = {}): PgBoss.SendOptions {
  const { retry, ...rest } = options;
  return { ...spec.retry, ...retry, ...rest };
}

/** Sends a job through `boss`; the queue is created on first use so senders need not wait for a worker. Null when the id or throttle already had one. */
export async function sendOn<J extends JobSpec>(boss: PgBoss, spec: J, data: JobPayload<J>, options: SendJobOptions = {}): Promise<string | null> {
  // Validated here, parsed again by the worker: the input is what is sent, so a schema with
  // defaults or transforms sees the same input on both sides.
  parsePayload(spec, data);
  await boss.createQueue(spec.queue);
  const id = await boss.send(spec.queue, (data ?? {}) as object, sendOptions(spec, options));
  // Workers poll every 2 s; this wakes them now (./register.ts). Sent after the job's own
  // commit, so a woken worker finds it. A lost wake-up only costs the wait for the next poll.
  if (id && options.startAfter === undefined) {
    await boss
      .getDb()
      .executeSql('select pg_notify($1, $2)', [JOB_SENT_CHANNEL, spec.queue])
      .catch((error: unknown) => console.error(`[queue] could not wake the workers of ${spec.queue}`, error));
  }
  return id;
}

/** Sends a job from this process: `sendJob(BUILD_JOB, { buildId }, { id: buildId })`. */
export async function sendJob<J extends JobSpec>(spec: J, data: JobPayload<J>, options: SendJobOptions = {}): Promise<string | null> {
  return sendOn(await queue(), spec, data, options);
}
