// The builds sweep, every worker, every FLOTILLA_BUILD_SWEEP_SECONDS (15 s): a build
// must never wait forever for a job that does not exist.
// - A running build whose worker is gone (dead on this machine, or silent for 90 s
//   anywhere) has its orphaned nix killed when it runs here, goes back to `queued`, and
//   gets a new job; the dead worker's job, still `active` in pg-boss until it expires
//   hours later, is cancelled so that it is not mistaken for a live one.
// - A build `queued` for two sweep intervals with no job waiting, retrying or running
//   (a process died between the commit and the send, or the send failed) gets one.
// Sends are throttled by pg-boss per build (singletonKey = build id, one a minute), so
// two workers sweeping at once send one job; a job too many is harmless anyway, as
// only one claim of a build succeeds (claimBuild).
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { db } from '@/lib/db/client';
import { builds } from '@/lib/db/schema';
import { BOSS_SCHEMA, queue, sendJob } from '@/lib/jobs/queue';
import { jobSpec, SWEEP_RETRY } from '@/lib/jobs/spec';
import { BUILD_JOB } from './build-job';
import { releaseGoneBuild } from './run-build';

const ZSweepSeconds = z.coerce.number().int().min(1).max(300).default(15);

/** The sweep's interval in seconds (FLOTILLA_BUILD_SWEEP_SECONDS; tests shorten it). */
export function sweepSeconds(): number {
  return ZSweepSeconds.parse(process.env.FLOTILLA_BUILD_SWEEP_SECONDS || undefined);
}

export const BUILD_SWEEP_JOB = jobSpec({
  name: 'builds-sweep',
  version: 1,
  payload: z.object({}),
  retry: SWEEP_RETRY,
  schedule: { everySeconds: sweepSeconds },
});

/** Jobs of the build job's queue for `buildId` in these states. */
function jobsOf(buildId: SQL | string, states: string[]) {
  return sql`select j.id from ${sql.identifier(BOSS_SCHEMA)}.job j
    where j.name = ${BUILD_JOB.queue} and j.data->>'buildId' = ${buildId}::text and j.state::text in (${sql.join(
      states.map((s) => sql`${s}`),
      sql`, `,
    )})`;
}

async function resend(buildId: string) {
  await sendJob(BUILD_JOB, { buildId }, { singletonKey: buildId, singletonSeconds: 60 });
}

export async function sweepBuilds(): Promise<{ released: string[]; resent: string[] }> {
  const released: string[] = [];
  const running = await db().select({ id: builds.id }).from(builds).where(eq(builds.status, 'running'));
  for (const { id } of running) {
    if (!(await releaseGoneBuild(id))) continue;
    released.push(id);
    const dead = (await db().execute<{ id: string }>(jobsOf(id, ['active']))).map((r) => r.id);
    if (dead.length > 0) await (await queue()).cancel(BUILD_JOB.queue, dead);
    await resend(id);
  }

  const grace = new Date(Date.now() - 2 * sweepSeconds() * 1000);
  const orphans = await db()
    .select({ id: builds.id })
    .from(builds)
    .where(
      and(
        eq(builds.status, 'queued'),
        sql`coalesce(${builds.heartbeatAt}, ${builds.createdAt}) < ${grace.toISOString()}`,
        sql`not exists (${jobsOf(sql`${builds.id}`, ['created', 'retry', 'active'])})`,
      ),
    );
  for (const { id } of orphans) await resend(id);
  const resent = orphans.map((o) => o.id);
  if (released.length + resent.length > 0) console.error(`[builds] sweep: ${released.length} taken from gone workers, ${resent.length} queued builds without a job sent again`);
  return { released, resent };
}
