// Asking for a build of a host's current config. Identical inputs return the build
// that already exists (queued, running or done) instead of building again. A new build
// row and the outbox event that sends its job are written together (lib/events), so a
// process dying after the commit cannot leave a build queued with no job.
import { and, eq, isNull, inArray } from 'drizzle-orm';
import { recordAudit } from '@/lib/audit/record';
import type { Caller } from '@/lib/auth/caller';
import type { Tx } from '@/lib/db/client';
import { isUniqueViolation } from '@/lib/db/errors';
import { builds } from '@/lib/db/schema';
import { LIVE_BUILD_STATUSES } from '@/lib/db/statuses';
import { assertConfigManaged } from '@/lib/hosts/deploy-only';
import type { HostInReach } from '@/lib/hosts/reach';
import { emit, transaction } from '@/lib/events/outbox';
import { assembleInputs, inputHash } from './inputs';

/**
 * A build of the host's latest config, or of it with another package list (`packages`): a
 * reviewer's preview of a request. Saving that list later gives the same inputs, so the
 * approved config reuses the preview's build.
 */
export async function requestBuild(caller: Caller, host: HostInReach, opts: { packages?: string[] } = {}, inTx?: Tx): Promise<{ buildId: string; reused: boolean; status: string }> {
  assertConfigManaged(host, 'build');
  const write = async (tx: Tx) => {
    const inputs = await assembleInputs(tx, host, opts);
    const hash = inputHash(host.name, inputs);
    const [existing] = await tx
      .select({ id: builds.id, status: builds.status })
      .from(builds)
      .where(and(eq(builds.hostId, host.id), eq(builds.inputHash, hash), inArray(builds.status, LIVE_BUILD_STATUSES), isNull(builds.prunedAt)));
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
    await emit(tx, { type: 'build.queued', buildId: row.id });
    return { buildId: row.id, reused: false, status: 'queued' };
  };
  // In the caller's transaction a savepoint, so that losing the race below does not abort it.
  const attempt = () => (inTx ? inTx.transaction((sp) => write(sp)) : transaction(write));
  try {
    return await attempt();
  } catch (error) {
    // Two requests for the same inputs at once: the loser finds the winner's build.
    if (!isUniqueViolation(error)) throw error;
    return attempt();
  }
}
