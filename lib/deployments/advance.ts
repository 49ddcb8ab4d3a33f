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
import { ACTIVE_DEPLOYMENT_STATUSES, isFailedPhase, isFinalDeployment, isFinalPhase, isInFlightPhase, NOT_STARTED_TARGET_PHASES, ROLLING_DEPLOYMENT_STATUSES } from '@/lib/db/statuses';
import { announceDeployment } from '@/lib/agents/host-events';
import { emit, transaction } from '@/lib/events/outbox';
import { writeDeployment } from './create';
import type { DeploymentMilestone } from './notify';
import { limitsFor, outsideWindow } from './strategy';

type Deployment = typeof deployments.$inferSelect;
type Target = typeof deploymentTargets.$inferSelect;
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
    const rows = await tx
      .select({
        t: deploymentTargets,
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
    candidates.sort((a, b) => a.t.wave - b.t.wave || a.host.name.localeCompare(b.host.name));
    for (const r of candidates.slice(0, slots)) {
      const [released] = await this.tx
        .update(deploymentTargets)
        .set({ releasedAt: this.now, updatedAt: this.now })
        .where(and(eq(deploymentTargets.id, r.t.id), eq(deploymentTargets.phase, 'pending'), isNull(deploymentTargets.releasedAt)))
        .returning({ id: deploymentTargets.id });
      if (!released) continue;
      r.t.releasedAt = this.now;
      await this.tx.update(hosts).set({ desiredSystem: r.t.storePath }).where(eq(hosts.id, r.host.id));
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
          inArray(deploymentTargets.hostId, hostIds),
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
    for (const r of this.rows.filter((x) => x.t.phase === 'pending')) await this.setPhase(r, 'cancelled', `${NOT_STARTED}${why}`);
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
 * Released targets still unsent to hosts that are online: their NOTIFY may have been lost (a
 * driver killed between commit and notify, a server restarting). Announcing again is harmless:
 * delivery is guarded.
 */
export async function reannounceStuckTargets(olderThanSeconds = 5) {
  const rows = await db()
    .selectDistinct({ hostId: deploymentTargets.hostId })
    .from(deploymentTargets)
    .innerJoin(hosts, eq(hosts.id, deploymentTargets.hostId))
    .innerJoin(deployments, eq(deployments.id, deploymentTargets.deploymentId))
    .where(
      and(
        eq(deploymentTargets.phase, 'pending'),
        sql`${deploymentTargets.releasedAt} < now() - make_interval(secs => ${olderThanSeconds})`,
        eq(hosts.online, true),
        inArray(deployments.status, ROLLING_DEPLOYMENT_STATUSES),
      ),
    );
  for (const r of rows) await announceDeployment(r.hostId);
  return rows.length;
}
