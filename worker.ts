// The worker process: pg-boss on PostgreSQL, running every job in lib/jobs. Several
// workers may run against one database; pg-boss hands each job to one of them.
import { pathToFileURL } from 'node:url';
import PgBoss from 'pg-boss';
import { ensureAllCacheKeys } from '@/lib/cache/keys';
import { startRolloutDriver } from '@/lib/deployments/driver';
import { JOBS } from '@/lib/jobs/definitions';
import { NixNotFound } from '@/lib/nix/run';
import { requireBuildSandbox } from '@/lib/nix/sandbox-check';
import { allNixpkgsSources } from '@/lib/packages/org-source';
import { indexStatus } from '@/lib/packages/search';

export type Worker = { boss: PgBoss; stop: () => Promise<void> };

/**
 * First start: every organisation gets its cache signing key, and every nixpkgs source
 * without a package index gets one built (as a job: a real nixpkgs takes minutes).
 * Without Nix installed the worker still runs, and says what will not work.
 */
async function prepareFleet(boss: PgBoss) {
  try {
    await ensureAllCacheKeys();
  } catch (error) {
    if (!(error instanceof NixNotFound)) throw error;
    console.error(`[worker] ${error.message}; builds and the binary cache need Nix`);
    return;
  }
  for (const source of await allNixpkgsSources()) {
    if ((await indexStatus(source.key))?.status !== 'ready') await boss.send('package-index', { source: source.key });
  }
}

export async function startWorker(databaseUrl: string): Promise<Worker> {
  // A worker whose builds would run unsandboxed or as root does not start (BuildSandboxUnavailable,
  // docs/decisions/0018). Without Nix it runs, and prepareFleet says what will not work.
  await requireBuildSandbox().catch((error: unknown) => {
    if (!(error instanceof NixNotFound)) throw error;
  });
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
  // Rollouts are a state machine in PostgreSQL rather than jobs: every worker advances
  // them, one transaction per step, so any of them may die (docs/decisions/0012).
  const driver = startRolloutDriver();
  await prepareFleet(boss);
  return {
    boss,
    stop: async () => {
      await driver.stop();
      await boss.stop({ graceful: true, timeout: 15_000 });
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // Not awaited at the top level: main() imports this module, which must finish evaluating first.
  void import('./scripts/start').then(({ main }) => main({ server: false }));
}
