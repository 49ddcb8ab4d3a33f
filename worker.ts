// The worker process: pg-boss on PostgreSQL, running every job in lib/jobs. Several
// workers may run against one database; pg-boss hands each job to one of them.
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import PgBoss from 'pg-boss';
import { stopBuilds } from '@/lib/builds/run-build';
import { ensureAllCacheKeys } from '@/lib/cache/keys';
import { startRolloutDriver } from '@/lib/deployments/driver';
import { startOutboxDispatcher } from '@/lib/events/dispatch';
import { env } from '@/lib/env';
import { JOBS, PACKAGE_INDEX_JOB, RETIRED_SCHEDULES } from '@/lib/jobs/definitions';
import { sendOn } from '@/lib/jobs/queue';
import { registerJobs } from '@/lib/jobs/register';
import { sweepTempDirs } from '@/lib/jobs/temp-dirs';
import { NixNotFound, killNixGroups } from '@/lib/nix/run';
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
    if ((await indexStatus(source.key))?.status !== 'ready') await sendOn(boss, PACKAGE_INDEX_JOB, { source: source.key });
  }
}

export async function startWorker(databaseUrl: string): Promise<Worker> {
  // A worker whose builds would run unsandboxed or as root does not start (BuildSandboxUnavailable,
  // docs/decisions/0018). Without Nix it runs, and prepareFleet says what will not work.
  await requireBuildSandbox().catch((error: unknown) => {
    if (!(error instanceof NixNotFound)) throw error;
  });
  // What workers killed before this one left behind: build directories (a flake, Nix's
  // build trees) and key files, named for their process (lib/jobs/temp-dirs.ts). Their
  // orphaned nix processes are killed by whoever takes their builds over (the builds sweep runs at once).
  const swept = await sweepTempDirs([env().dataDir, os.tmpdir()]);
  if (swept.length > 0) console.log(`[worker] removed ${swept.length} temporary directories of processes that are gone`);
  const boss = new PgBoss({ connectionString: databaseUrl, schema: 'pgboss', application_name: 'flotilla-worker', max: 4 });
  boss.on('error', (error) => console.error('[worker] pg-boss error', error));
  await boss.start();
  for (const name of RETIRED_SCHEDULES) await boss.unschedule(name);
  const jobs = await registerJobs(boss, JOBS);
  // Rollouts are a state machine in PostgreSQL rather than jobs: every worker advances
  // them, one transaction per step, so any of them may die (docs/decisions/0012).
  const driver = startRolloutDriver();
  // Effects of committed changes whose process died before delivering them (lib/events).
  const outbox = startOutboxDispatcher();
  await prepareFleet(boss);
  return {
    boss,
    stop: async () => {
      jobs.stop();
      // Builds first: their nix process groups are killed and they go back to the queue,
      // rather than running on unsupervised after this process is gone.
      await stopBuilds();
      killNixGroups();
      await driver.stop();
      await outbox.stop();
      await boss.stop({ graceful: true, timeout: 15_000 });
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // Not awaited at the top level: main() imports this module, which must finish evaluating first.
  void import('./scripts/start').then(({ main }) => main({ server: false }));
}
