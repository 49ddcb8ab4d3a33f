// One step of the rollout state machine for one deployment (DESIGN.md §8), in one
// transaction that holds the deployment row. Every change is a guarded UPDATE on the
// phase or status it expects, so two drivers, a driver killed half-way or a replayed
// wake-up never release a target twice or move anything backwards. Targets are only
// *released* here; the server process holding a host's socket sends them
// (lib/deployments/delivery.ts), after the NOTIFY that follows the commit. What must
// follow a step (announcements, milestones, nudges) is written as outbox events in the
// step's own transaction (lib/events), so a driver killed after the commit loses none.
import { and, eq, gt, inArray, isNull, ne, notInArray, sql } from 'drizzle-orm';
import { db, type Tx } from '@/lib/db/client';
import { ZRollout, type TRollout } from '@/lib/db/json-types';
import { builds, deployments, deploymentTargets, hosts, type Host } from '@/lib/db/schema';
import {
  ACTIVE_DEPLOYMENT_STATUSES,
  FAILED_TARGET_PHASES,
  FINAL_TARGET_PHASES,
  isFailedPhase,
  isFinalDeployment,
  isFinalPhase,
  isInFlightPhase,
  NOT_STARTED_TARGET_PHASES,
  ROLLING_DEPLOYMENT_STATUSES,
} from '@/lib/db/statuses';
import { announceRelease } from '@/lib/agents/host-events';
import { emit, transaction } from '@/lib/events/outbox';
import { writeDeployment } from './create';
import { hostIsBusy } from './delivery';
import type { DeploymentMilestone } from './notify';
import { limitsFor, outsideWindow } from './strategy';

type Deployment = typeof deployments.$inferSelect;
// Every column the rollout reads, and none of the large ones (the log, check reports):
// a pass over a 10,000-host deployment reads 10,000 of these.
const TARGET_COLUMNS = {
  id: deploymentTargets.id,
  storePath: deploymentTargets.storePath,
  buildId: deploymentTargets.buildId,
  wave: deploymentTargets.wave,
  previousSystem: deploymentTargets.previousSystem,
  phase: deploymentTargets.phase,
  error: deploymentTargets.error,
  rollbackReason: deploymentTargets.rollbackReason,
  releasedAt: deploymentTargets.releasedAt,
};
type Target = Pick<typeof deploymentTargets.$inferSelect, keyof typeof TARGET_COLUMNS>;
type Row = { t: Target; host: Pick<Host, 'id' | 'name' | 'online' | 'tags' | 'currentSystem' | 'lastHealth'> };

/** What a step decided that must happen after its transaction commits: written to the outbox before it does. */
type Effects = { announce: Set<string>; events: DeploymentMilestone[]; rollback: string | null; nudge: string[] };

const NOT_STARTED = 'not started: ';

/** Advances one deployment as far as it can go now. Returns false when another driver holds it. */
export async function advanceDeployment(id: string, now = new Date()): Promise<boolean> {
  return transaction(async (tx) => {
    const [d] = await tx
      .select()
      .from(deployments)
      .where(and(eq(deployments.id, id), inArray(deployments.status, [...ACTIVE_DEPLOYMENT_STATUSES])))
      .for('update', { skipLocked: true });
    if (!d) return false;
    // Most passes of a big rolling deployment come from results that change nothing yet:
    // a count says so without reading every target.
    if (d.status === 'rolling' && (await nothingToDo(tx, d, now))) return true;
    const rows = await tx
      .select({
        t: TARGET_COLUMNS,
        host: { id: hosts.id, name: hosts.name, online: hosts.online, tags: hosts.tags, currentSystem: hosts.currentSystem, lastHealth: hosts.lastHealth },
      })
      .from(deploymentTargets)
      .innerJoin(hosts, eq(hosts.id, deploymentTargets.hostId))
      .where(eq(deploymentTargets.deploymentId, id));
    const effects: Effects = { announce: new Set(), events: [], rollback: null, nudge: [] };
    await new Step(tx, d, rows, now, effects).run();
    // Dispatched after the commit, so the process that delivers reads what was written.
    if (effects.announce.size) await emit(tx, { type: 'target.released', deploymentId: id, hostIds: [...effects.announce] });
    for (const type of effects.events) await emit(tx, { type, deploymentId: id });
    for (const other of effects.nudge) await emit(tx, { type: 'deployment.changed', deploymentId: other });
    return true;
  });
}

/**
 * A rolling deployment has nothing to do now when nothing waits to be released, failures are
 * within what it tolerates, it has not ended, and no released target's host could have passed
 * the offline deadline. One aggregate over the targets, instead of reading them all.
 */
async function nothingToDo(tx: Tx, d: Deployment, now: Date): Promise<boolean> {
  const t = deploymentTargets;
  const phases = (list: readonly string[]) => sql.join(list.map((p) => sql`${p}`), sql`, `);
  const [c] = await tx
    .select({
      total: sql<number>`count(*)::int`,
      unreleased: sql<number>`(count(*) filter (where ${t.phase} = 'pending' and ${t.releasedAt} is null))::int`,
      releasedPending: sql<number>`(count(*) filter (where ${t.phase} = 'pending' and ${t.releasedAt} is not null))::int`,
      failed: sql<number>`(count(*) filter (where ${t.phase} in (${phases(FAILED_TARGET_PHASES)})))::int`,
      unfinished: sql<number>`(count(*) filter (where ${t.phase} not in (${phases(FINAL_TARGET_PHASES)})))::int`,
    })
    .from(t)
    .where(eq(t.deploymentId, d.id));
  if (!c || c.unreleased > 0 || c.unfinished === 0) return false;
  const strategy = ZRollout.parse(d.strategy);
  if (c.failed > limitsFor(strategy, c.total).maxFailures) return false;
  const deadline = (d.startedAt ?? d.createdAt).getTime() + strategy.offlineDeadlineSeconds * 1000;
  return c.releasedPending === 0 || now.getTime() <= deadline;
}

class Step {
  private strategy: TRollout;
  private limits: ReturnType<typeof limitsFor>;

  constructor(
    private tx: Tx,
    private d: Deployment,
    private rows: Row[],
    private now: Date,
    private effects: Effects,
  ) {
    this.strategy = ZRollout.parse(d.strategy);
    this.limits = limitsFor(this.strategy, rows.length);
  }

  async run() {
    if (this.d.status === 'pending' && !(await this.startWhenBuilt())) return;
    if (await this.failureGateTripped()) return;
    if (this.d.status === 'canary') {
      await this.releaseTurn([0]);
      if (!(await this.canariesPassed())) return;
    }
    if (this.d.status === 'rolling') {
      await this.releaseTurn(this.rollingWaves());
      await this.finishWhenDone();
    }
  }

  // ------------------------------------------------------------------ pending: builds

  /** A deployment of hosts built from their configs waits for its builds; a failed build stops it before anything is sent. */
  private async startWhenBuilt(): Promise<boolean> {
    const unbuilt = this.rows.filter((r) => r.t.storePath === null && r.t.phase === 'pending');
    if (unbuilt.length) {
      const ids = unbuilt.map((r) => r.t.buildId).filter((b): b is string => b !== null);
      const found = ids.length ? await this.tx.select().from(builds).where(inArray(builds.id, ids)) : [];
      const failed: string[] = [];
      let waiting = false;
      for (const r of unbuilt) {
        const b = found.find((x) => x.id === r.t.buildId);
        if (b?.status === 'succeeded' && b.storePath) {
          await this.tx.update(deploymentTargets).set({ storePath: b.storePath, updatedAt: this.now }).where(and(eq(deploymentTargets.id, r.t.id), isNull(deploymentTargets.storePath)));
          r.t.storePath = b.storePath;
        } else if (!b || b.status === 'failed' || b.status === 'cancelled') {
          failed.push(r.host.name);
          await this.setPhase(r, 'failed', `build ${b ? b.status : 'missing'}${b?.error ? `: ${b.error}` : ''}`);
        } else waiting = true;
      }
      if (failed.length) {
        await this.cancelUnstarted('a build failed');
        await this.setStatus('failed', `Build failed for ${failed.join(', ')}; nothing was sent`);
        this.effects.events.push('deployment.finished');
        return false;
      }
      if (waiting) return false;
    }
    const hasCanaries = this.rows.some((r) => r.t.wave === 0);
    await this.setStatus(hasCanaries ? 'canary' : 'rolling', null, { startedAt: this.now });
    this.effects.events.push('deployment.started');
    return true;
  }

  // ------------------------------------------------------------------ gates

  private failures() {
    return this.rows.filter((r) => isFailedPhase(r.t.phase));
  }

  /** Any canary failure, or more failures than the strategy tolerates, stops the rollout. */
  private async failureGateTripped(): Promise<boolean> {
    const failed = this.failures();
    if (this.d.status === 'canary' && failed.length > 0) {
      await this.trip(`Canary ${failed.map((r) => r.host.name).join(', ')} failed: ${failed[0]?.t.rollbackReason ?? failed[0]?.t.error ?? 'no reason given'}`);
      return true;
    }
    if (this.d.status === 'rolling' && failed.length > this.limits.maxFailures) {
      await this.trip(`${failed.length} host${failed.length === 1 ? '' : 's'} failed (${failed.map((r) => r.host.name).slice(0, 10).join(', ')}), more than the ${this.limits.maxFailures} tolerated`);
      return true;
    }
    return false;
  }

  /** Stops the rollout: nothing more starts; with rollback-all, every host it touched goes back. */
  private async trip(reason: string) {
    // Nothing left to hold back (a one-host deployment, the last wave): it simply failed.
    if (this.strategy.onFailure === 'halt' && this.rows.every((r) => isFinalPhase(r.t.phase))) {
      await this.setStatus('failed', reason);
      this.effects.events.push('deployment.finished');
      return;
    }
    await this.cancelUnstarted('the deployment halted');
    if (this.strategy.onFailure === 'rollback-all') {
      this.effects.rollback = await this.createRollback(`automatic: ${reason}`);
      await this.setStatus('rolled-back', `${reason}; rolling back in deployment ${this.effects.rollback ?? '(nothing to roll back)'}`);
    } else {
      await this.setStatus('halted', reason);
    }
    this.effects.events.push('deployment.halted');
  }

  /** Canaries must all succeed, then stay healthy until watchUntil, before the waves start. */
  private async canariesPassed(): Promise<boolean> {
    const canaries = this.rows.filter((r) => r.t.wave === 0);
    if (!canaries.every((r) => isFinalPhase(r.t.phase))) return false;
    // With no host after them the canaries are the whole deployment: nothing to protect by waiting.
    const nothingAfter = this.rows.every((r) => r.t.wave === 0);
    if (!this.d.watchUntil && !nothingAfter) {
      const watchUntil = new Date(this.now.getTime() + this.strategy.watchSeconds * 1000);
      await this.tx.update(deployments).set({ watchUntil, updatedAt: this.now }).where(eq(deployments.id, this.d.id));
      this.d.watchUntil = watchUntil;
    }
    if (this.d.watchUntil && this.now < this.d.watchUntil) return false;
    const unhealthy = canaries.filter((r) => r.t.phase === 'succeeded').map((r) => ({ r, why: canaryProblem(r) })).filter((x) => x.why);
    if (unhealthy.length) {
      await this.trip(`Canary ${unhealthy.map((x) => `${x.r.host.name} (${x.why})`).join(', ')} did not stay healthy for ${this.strategy.watchSeconds} s`);
      return false;
    }
    await this.setStatus('rolling', null);
    return true;
  }

  // ------------------------------------------------------------------ releasing

  /** Why a pending, unreleased target cannot go now, or null when it can. */
  private waitReason(r: Row): string | null {
    if (!r.host.online) return 'host offline';
    return outsideWindow(r.host.tags, this.strategy.maintenanceWindows, this.now);
  }

  private deadline(): Date {
    return new Date((this.d.startedAt ?? this.d.createdAt).getTime() + this.strategy.offlineDeadlineSeconds * 1000);
  }

  /**
   * The waves whose turn it is: all waves up to the first one that still has work that is not
   * merely waiting for its host. Hosts that wait (offline, outside their window) do not hold
   * later waves back; they go when they can, within maxInFlight.
   */
  private rollingWaves(): number[] {
    const busy = this.rows.filter((r) => r.t.wave > 0 && !isFinalPhase(r.t.phase) && !(r.t.phase === 'pending' && !r.t.releasedAt && this.waitReason(r)));
    const current = busy.length ? Math.min(...busy.map((r) => r.t.wave)) : Number.MAX_SAFE_INTEGER;
    return [...new Set(this.rows.map((r) => r.t.wave))].filter((w) => w > 0 && w <= current);
  }

  private async releaseTurn(waves: number[]) {
    const turn = this.rows.filter((r) => waves.includes(r.t.wave) && r.t.phase === 'pending');
    const superseded = await this.supersededHosts(turn.map((r) => r.host.id));
    const candidates: Row[] = [];
    for (const r of turn) {
      const newer = superseded.get(r.host.id);
      if (newer) {
        await this.setPhase(r, 'skipped', `superseded by deployment ${newer}`);
        continue;
      }
      if (r.t.releasedAt) {
        // Released but not sent: its host went away. It goes on reconnecting, until the deadline.
        if (!r.host.online && this.now > this.deadline()) await this.setPhase(r, 'skipped', 'host offline until the deadline');
        continue;
      }
      const wait = this.waitReason(r);
      if (!wait) candidates.push(r);
      else if (wait === 'host offline' && this.strategy.offlineHosts === 'skip') await this.setPhase(r, 'skipped', 'host offline when its turn came');
      else if (wait === 'host offline' && this.now > this.deadline()) await this.setPhase(r, 'skipped', 'host offline until the deadline');
    }
    const inFlight = this.rows.filter((r) => r.t.releasedAt && !isFinalPhase(r.t.phase)).length;
    const slots = Math.max(0, this.limits.maxInFlight - inFlight);
    // Host names are lower-case ASCII (lib/hosts/schemas.ts): plain comparison orders them as
    // localeCompare did, at a fraction of its cost over 10,000 hosts.
    candidates.sort((a, b) => a.t.wave - b.t.wave || (a.host.name < b.host.name ? -1 : a.host.name > b.host.name ? 1 : 0));
    const chosen = candidates.slice(0, slots);
    if (chosen.length === 0) return;
    // Set-based, whatever the count: one statement releases them, one locks their hosts in id
    // order (as the heartbeat writer does, so the two never deadlock), one says what each should run.
    const released = await this.tx
      .update(deploymentTargets)
      .set({ releasedAt: this.now, updatedAt: this.now })
      .where(and(sql`${deploymentTargets.id} = any(${`{${chosen.map((r) => r.t.id).join(',')}}`}::uuid[])`, eq(deploymentTargets.phase, 'pending'), isNull(deploymentTargets.releasedAt)))
      .returning({ id: deploymentTargets.id });
    if (released.length === 0) return;
    const ids = new Set(released.map((r) => r.id));
    const hostIds = `{${chosen.filter((r) => ids.has(r.t.id)).map((r) => r.host.id).join(',')}}`;
    await this.tx.execute(sql`select 1 from ${hosts} where id = any(${hostIds}::uuid[]) order by id for no key update`);
    await this.tx.execute(sql`
      update ${hosts} h set desired_system = t.store_path from ${deploymentTargets} t
      where t.id = any(${`{${[...ids].join(',')}}`}::uuid[]) and h.id = t.host_id`);
    for (const r of chosen) {
      if (!ids.has(r.t.id)) continue;
      r.t.releasedAt = this.now;
      this.effects.announce.add(r.host.id);
    }
  }

  /** Hosts among these that a newer deployment also targets (and has not given up on). */
  private async supersededHosts(hostIds: string[]): Promise<Map<string, string>> {
    if (hostIds.length === 0) return new Map();
    const newer = await this.tx
      .select({ hostId: deploymentTargets.hostId, deploymentId: deployments.id })
      .from(deploymentTargets)
      .innerJoin(deployments, eq(deployments.id, deploymentTargets.deploymentId))
      .where(
        and(
          sql`${deploymentTargets.hostId} = any(${`{${hostIds.join(',')}}`}::uuid[])`,
          ne(deployments.id, this.d.id),
          gt(deployments.createdAt, this.d.createdAt),
          eq(deployments.orgId, this.d.orgId),
          notInArray(deploymentTargets.phase, [...NOT_STARTED_TARGET_PHASES]),
          ne(deployments.status, 'pending'),
        ),
      );
    return new Map(newer.map((n) => [n.hostId, n.deploymentId]));
  }

  // ------------------------------------------------------------------ finishing

  private async finishWhenDone() {
    if (!this.rows.every((r) => isFinalPhase(r.t.phase))) return;
    const count = (phase: string) => this.rows.filter((r) => r.t.phase === phase).length;
    const failed = this.failures().length;
    const parts = [`${count('succeeded')} succeeded`];
    if (failed) parts.push(`${failed} failed`);
    if (count('skipped')) parts.push(`${count('skipped')} skipped`);
    await this.setStatus(failed ? 'failed' : 'succeeded', parts.join(', '), { finishedAt: this.now });
    this.effects.events.push('deployment.finished');
  }

  // ------------------------------------------------------------------ rollback

  /** A new deployment returning every host this one touched to the system it ran before. */
  private async createRollback(reason: string): Promise<string | null> {
    const touched = this.rows.filter(
      (r) => (r.t.phase === 'succeeded' || isInFlightPhase(r.t.phase)) && r.t.previousSystem && r.t.previousSystem !== r.t.storePath,
    );
    if (touched.length === 0) return null;
    const owner = { orgId: this.d.orgId, userId: this.d.createdBy, actor: { system: 'rollout', orgId: this.d.orgId } };
    const systems = new Map(touched.map((r) => [r.host.id, { storePath: r.t.previousSystem, buildId: null }]));
    const created = await writeDeployment(this.tx, owner, touched.map((r) => r.host), rollbackStrategy(this.strategy), systems, 'rollback', { rollbackOf: this.d.id, reason });
    this.effects.nudge.push(created.id);
    return created.id;
  }

  // ------------------------------------------------------------------ writes

  private async setStatus(status: Deployment['status'], reason: string | null, extra: Partial<Deployment> = {}) {
    const final = isFinalDeployment(status);
    await this.tx
      .update(deployments)
      .set({ status, reason: reason ?? this.d.reason, updatedAt: this.now, ...(final ? { finishedAt: this.now } : {}), ...extra })
      .where(and(eq(deployments.id, this.d.id), eq(deployments.status, this.d.status)));
    this.d.status = status;
  }

  private async setPhase(r: Row, phase: 'skipped' | 'cancelled' | 'failed', error: string) {
    const [row] = await this.tx
      .update(deploymentTargets)
      .set({ phase, error, finishedAt: this.now, updatedAt: this.now })
      .where(and(eq(deploymentTargets.id, r.t.id), eq(deploymentTargets.phase, 'pending')))
      .returning({ id: deploymentTargets.id });
    if (row) r.t.phase = phase;
  }

  /** Targets not yet sent never will be: they end cancelled, saying why. */
  private async cancelUnstarted(why: string) {
    const cancelled = await this.tx
      .update(deploymentTargets)
      .set({ phase: 'cancelled', error: `${NOT_STARTED}${why}`, finishedAt: this.now, updatedAt: this.now })
      .where(and(eq(deploymentTargets.deploymentId, this.d.id), eq(deploymentTargets.phase, 'pending')))
      .returning({ id: deploymentTargets.id });
    const ids = new Set(cancelled.map((c) => c.id));
    for (const r of this.rows) if (ids.has(r.t.id)) r.t.phase = 'cancelled';
  }
}

/** A succeeded canary is unhealthy when its host is gone, runs something else, or reports failed units. */
function canaryProblem(r: Row): string | null {
  if (!r.host.online) return 'went offline';
  if (r.host.currentSystem !== r.t.storePath) return 'no longer runs the deployed system';
  const failedUnits = r.host.lastHealth?.failedUnits;
  if (failedUnits?.length) return `failed units: ${failedUnits.slice(0, 5).join(', ')}`;
  return null;
}

/** Going back is urgent and known-good: no canaries, the same pace, every host tried. */
export function rollbackStrategy(original: TRollout): TRollout {
  return ZRollout.parse({ ...original, canaries: 0, watchSeconds: 0, maxFailures: '100%', onFailure: 'halt', maintenanceWindows: [] });
}

/** Deployments the driver should look at now. */
export async function activeDeploymentIds(): Promise<string[]> {
  const rows = await db()
    .select({ id: deployments.id })
    .from(deployments)
    .where(inArray(deployments.status, [...ACTIVE_DEPLOYMENT_STATUSES]))
    .orderBy(deployments.createdAt);
  return rows.map((r) => r.id);
}

/**
 * Deployments with released targets still unsent, for a while, to hosts that are online and
 * not busy with another target: their NOTIFY may have been lost (a driver killed between
 * commit and notify, a server restarting). One announcement per deployment, which every
 * server answers for the hosts it holds; harmless when nothing was lost, as delivery is
 * guarded. The driver calls this every RE_ANNOUNCE_SECONDS, so a target that is merely
 * waiting its turn costs nothing per pass.
 */
export const RE_ANNOUNCE_SECONDS = 30;

export async function reannounceStuckTargets(olderThanSeconds = RE_ANNOUNCE_SECONDS) {
  const rows = await db()
    .selectDistinct({ deploymentId: deploymentTargets.deploymentId })
    .from(deploymentTargets)
    .innerJoin(hosts, eq(hosts.id, deploymentTargets.hostId))
    .innerJoin(deployments, eq(deployments.id, deploymentTargets.deploymentId))
    .where(
      and(
        eq(deploymentTargets.phase, 'pending'),
        sql`${deploymentTargets.releasedAt} < now() - make_interval(secs => ${olderThanSeconds})`,
        eq(hosts.online, true),
        inArray(deployments.status, ROLLING_DEPLOYMENT_STATUSES),
        sql`not ${hostIsBusy(deploymentTargets.hostId)}`,
      ),
    );
  for (const r of rows) await announceRelease(r.deploymentId);
  return rows.length;
}
