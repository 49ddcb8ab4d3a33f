// The worker process: pg-boss on PostgreSQL, running every job in lib/jobs. Several
// workers may run against one database; pg-boss hands each job to one of them.
import { pathToFileURL } from 'node:url';
import PgBoss from 'pg-boss';
import { JOBS } from '@/lib/jobs/definitions';

export type Worker = { boss: PgBoss; stop: () => Promise<void> };

export async function startWorker(databaseUrl: string): Promise<Worker> {
  const boss = new PgBoss({ connectionString: databaseUrl, schema: 'pgboss', application_name: 'flotilla-worker', max: 4 });
  boss.on('error', (error) => console.error('[worker] pg-boss error', error));
  await boss.start();
  for (const job of JOBS) {
    await boss.createQueue(job.name);
    await boss.work(job.name, async (batch) => {
      for (const item of batch) await job.run(item.data);
    });
    if (job.schedule) await boss.schedule(job.name, job.schedule, {}, { tz: 'UTC' });
  }
  return { boss, stop: () => boss.stop({ graceful: true, timeout: 15_000 }) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { main } = await import('./scripts/start');
  await main({ server: false });
}
