// Sending jobs from any process (the web server, the worker): one small pg-boss
// client per process that runs no workers and no schedules.
import PgBoss from 'pg-boss';

const globalForQueue = globalThis as unknown as { flotillaQueue?: Promise<PgBoss> };

export const BOSS_SCHEMA = 'pgboss';

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

/** Sends a job; the queue is created on first use so senders need not wait for a worker. */
export async function sendJob(name: string, data: object, options: PgBoss.SendOptions = {}) {
  const boss = await queue();
  await boss.createQueue(name);
  return boss.send(name, data, options);
}
