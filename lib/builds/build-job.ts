// The build job as senders see it: its spec and the one function that queues it. The
// worker binds runBuild to the same spec (lib/jobs/definitions.ts).
import { z } from 'zod';
import { sendJob } from '@/lib/jobs/queue';
import { jobSpec } from '@/lib/jobs/spec';

export const BUILD_JOB = jobSpec({
  name: 'build-host-system',
  version: 1,
  payload: z.object({ buildId: z.uuid() }),
  // A retry after a worker died takes the build over (claimBuild); a build is cut after 3
  // hours (run-build.ts), so an attempt active for 4 is a worker that is gone.
  retry: { retryLimit: 3, retryDelay: 30, retryBackoff: true, expireInSeconds: 4 * 60 * 60 },
});

/**
 * Queues a build's job. The first job of a build uses the build's id (`jobId`), so
 * sending it twice is one job; the sweep (./sweep.ts) sends later ones throttled by the
 * build's id instead, since a finished job keeps its id for days.
 */
export async function enqueueBuild(buildId: string, jobId?: string) {
  await sendJob(BUILD_JOB, { buildId }, { id: jobId });
}
