// Asking for a build of a host's current config. Identical inputs return the build
// that already exists (queued, running or done) instead of building again.
import { and, eq, isNull, inArray } from 'drizzle-orm';
import { recordAudit } from '@/lib/audit/record';
import type { Caller } from '@/lib/auth/caller';
import { db } from '@/lib/db/client';
import { isUniqueViolation } from '@/lib/db/errors';
import { builds } from '@/lib/db/schema';
import type { HostInReach } from '@/lib/hosts/reach';
import { sendJob } from '@/lib/jobs/queue';
import { assembleInputs, inputHash } from './inputs';

export const BUILD_JOB = 'build-host-system';

export async function enqueueBuild(buildId: string, jobId?: string) {
  // The first job of a build uses the build's id, so sending it twice is one job.
  await sendJob(BUILD_JOB, { buildId }, { id: jobId, retryLimit: 3, retryDelay: 30, retryBackoff: true, expireInSeconds: 4 * 60 * 60 });
}

/**
 * A build of the host's latest config, or of it with another package list (`packages`): a
 * reviewer's preview of a request. Saving that list later gives the same inputs, so the
 * approved config reuses the preview's build.
 */
export async function requestBuild(caller: Caller, host: HostInReach, opts: { packages?: string[] } = {}): Promise<{ buildId: string; reused: boolean; status: string }> {
  const attempt = async () =>
    db().transaction(async (tx) => {
      const inputs = await assembleInputs(tx, host, opts);
      const hash = inputHash(host.name, inputs);
      const [existing] = await tx
        .select({ id: builds.id, status: builds.status })
        .from(builds)
        .where(and(eq(builds.hostId, host.id), eq(builds.inputHash, hash), inArray(builds.status, ['queued', 'running', 'succeeded']), isNull(builds.prunedAt)));
      if (existing) {
        // The saved config now has what a preview built: it is a real build of the host from here on.
        if (!opts.packages) await tx.update(builds).set({ preview: false, configVersion: inputs.configVersion }).where(and(eq(builds.id, existing.id), eq(builds.preview, true)));
        return { buildId: existing.id, reused: true, status: existing.status };
      }
      const [row] = await tx
        .insert(builds)
        .values({ orgId: host.orgId, hostId: host.id, configVersion: inputs.configVersion, preview: opts.packages !== undefined, inputs, inputHash: hash, createdBy: caller.user.id })
        .returning({ id: builds.id });
      if (!row) throw new Error('insert returned nothing');
      await recordAudit(tx, caller, { action: 'build.request', objectType: 'build', objectId: row.id, after: { host: host.name, configVersion: inputs.configVersion } });
      return { buildId: row.id, reused: false, status: 'queued' };
    });
  let result;
  try {
    result = await attempt();
  } catch (error) {
    // Two requests for the same inputs at once: the loser finds the winner's build.
    if (!isUniqueViolation(error)) throw error;
    result = await attempt();
  }
  if (!result.reused) await enqueueBuild(result.buildId, result.buildId);
  return result;
}
