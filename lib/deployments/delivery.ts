// Delivery of deployment targets to connected agents, and what their reports do to
// the targets. Each transition is one guarded UPDATE, so two server processes, a
// restart or a replayed message never send a target twice or move it backwards.
import { and, desc, eq, inArray, isNotNull, isNull, ne, notInArray, or, sql } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { ZRollout } from '@/lib/db/json-types';
import { deployments, deploymentTargets, hosts } from '@/lib/db/schema';
import { FINAL_TARGET_PHASES, IN_FLIGHT_TARGET_PHASES, ROLLING_DEPLOYMENT_STATUSES } from '@/lib/db/statuses';
import type { TCancel, TCheckReport, TDeploy, TResult, TRollback } from '@/lib/agents/protocol';
import { recordAudit } from '@/lib/audit/record';
import { emit, transaction } from '@/lib/events/outbox';
import { policyChoices } from './decision-policy';
import { nudgeRollout } from './events';
import { parseDecision } from './schemas';

/** The host's next released target as a `deploy` message, moved to `sent`; null when there is none to send now. */
export async function nextDeploy(hostId: string): Promise<TDeploy | null> {
  return db().transaction(async (tx) => {
    // One host, one activation at a time: the agent works through them in order anyway.
    const busy = await tx
      .select({ id: deploymentTargets.id })
      .from(deploymentTargets)
      .where(and(eq(deploymentTargets.hostId, hostId), inArray(deploymentTargets.phase, [...IN_FLIGHT_TARGET_PHASES])))
      .limit(1);
    if (busy.length) return null;
    const pending = await tx
      .select({ target: deploymentTargets, deployment: deployments })
      .from(deploymentTargets)
      .innerJoin(deployments, eq(deployments.id, deploymentTargets.deploymentId))
      .where(
        and(
          eq(deploymentTargets.hostId, hostId),
          eq(deploymentTargets.phase, 'pending'),
          isNotNull(deploymentTargets.releasedAt),
          isNotNull(deploymentTargets.storePath),
          // A paused deployment keeps what it released until it resumes.
          inArray(deployments.status, ROLLING_DEPLOYMENT_STATUSES),
        ),
      )
      .orderBy(desc(deployments.createdAt))
      .for('update', { of: deploymentTargets });
    const [newest, ...older] = pending;
    if (!newest) return null;
    // A newer deployment supersedes an older one for the same host.
    for (const o of older) {
      await tx
        .update(deploymentTargets)
        .set({ phase: 'skipped', error: `superseded by deployment ${newest.deployment.id}`, finishedAt: new Date(), updatedAt: new Date() })
        .where(and(eq(deploymentTargets.id, o.target.id), eq(deploymentTargets.phase, 'pending')));
    }
    // What the host runs now is where a rollback of this deployment takes it.
    const [host] = await tx.select({ currentSystem: hosts.currentSystem }).from(hosts).where(eq(hosts.id, hostId));
    const [sent] = await tx
      .update(deploymentTargets)
      .set({ phase: 'sent', sentAt: new Date(), previousSystem: host?.currentSystem ?? null, attempts: sql`${deploymentTargets.attempts} + 1`, updatedAt: new Date() })
      .where(and(eq(deploymentTargets.id, newest.target.id), eq(deploymentTargets.phase, 'pending')))
      .returning();
    if (!sent?.storePath) return null;
    return deployMessage(sent.id, sent.deploymentId, sent.storePath, newest.deployment.strategy);
  });
}

function deployMessage(targetId: string, deploymentId: string, storePath: string, rawStrategy: unknown): TDeploy {
  const strategy = ZRollout.parse(rawStrategy ?? {});
  return {
    type: 'deploy',
    id: crypto.randomUUID(),
    deploymentId,
    targetId,
    storePath,
    action: strategy.action,
    confirmTimeoutSeconds: strategy.confirmTimeoutSeconds,
    switchTimeoutSeconds: strategy.switchTimeoutSeconds,
  };
}

/**
 * The host's targets in flight that its agent, just (re)connected, neither runs nor has a
 * result for: the `deploy` never reached it (a server or a link died with it in flight), or
 * its result was written into a connection that was already dead. They are sent again as
 * they were: the agent answers a target its journal knows with the recorded result, and
 * starts one it never received; either way nothing is activated twice.
 */
export async function lostDeploys(hostId: string, known: string[]): Promise<TDeploy[]> {
  const rows = await db()
    .select({ target: deploymentTargets, strategy: deployments.strategy })
    .from(deploymentTargets)
    .innerJoin(deployments, eq(deployments.id, deploymentTargets.deploymentId))
    .where(
      and(
        eq(deploymentTargets.hostId, hostId),
        inArray(deploymentTargets.phase, [...IN_FLIGHT_TARGET_PHASES]),
        isNotNull(deploymentTargets.storePath),
        known.length ? notInArray(deploymentTargets.id, known) : undefined,
      ),
    );
  return rows.map((r) => deployMessage(r.target.id, r.target.deploymentId, r.target.storePath as string, r.strategy));
}

/** Records an agent's progress on one of its own targets. Returns true when the server should confirm. */
export async function recordProgress(hostId: string, targetId: string, phase: 'downloading' | 'activating' | 'confirming', message: string): Promise<boolean> {
  const [row] = await db()
    .update(deploymentTargets)
    .set({
      phase,
      log: sql`right(${deploymentTargets.log} || ${`${new Date().toISOString()} ${message}\n`}, 64000)`,
      updatedAt: new Date(),
      ...(phase === 'confirming' ? { confirmedAt: new Date() } : {}),
    })
    .where(and(eq(deploymentTargets.id, targetId), eq(deploymentTargets.hostId, hostId), inArray(deploymentTargets.phase, [...IN_FLIGHT_TARGET_PHASES])))
    .returning({ deploymentId: deploymentTargets.deploymentId });
  if (!row || phase !== 'confirming') return false;
  // Confirm unless the deployment was cancelled meanwhile: then the agent's own timeout rolls it back.
  const [deployment] = await db().select({ status: deployments.status }).from(deployments).where(eq(deployments.id, row.deploymentId));
  return deployment?.status !== 'cancelled';
}

/**
 * Records an agent's result once (a result repeated in a later hello changes nothing); the
 * one later change is `rolled-back` for a target that succeeded (a `rollback` the server sent).
 * The target's outcome and the host's system change in one transaction: the rollout
 * driver must never see a canary `succeeded` on a host still running the old system
 * (it then judged the canary unhealthy, "no longer runs the deployed system").
 */
export async function recordResult(hostId: string, result: TResult) {
  return transaction(async (tx) => {
    const [updated] = await tx
      .update(deploymentTargets)
      .set({
        phase: result.outcome,
        error: result.outcome === 'failed' || result.outcome === 'cancelled' ? result.reason : null,
        rollbackReason: result.outcome === 'rolled-back' ? result.reason : null,
        log: sql`right(${deploymentTargets.log} || ${result.logsTail}, 64000)`,
        finishedAt: new Date(),
        updatedAt: new Date(),
      })
      .where(
        and(
          eq(deploymentTargets.id, result.targetId),
          eq(deploymentTargets.hostId, hostId),
          ne(deploymentTargets.phase, 'pending'),
          or(notInArray(deploymentTargets.phase, [...FINAL_TARGET_PHASES]), result.outcome === 'rolled-back' ? eq(deploymentTargets.phase, 'succeeded') : undefined),
        ),
      )
      .returning();
    if (!updated) return false;
    // last_seen moves too, so a heartbeat sampled before this result cannot overwrite the system.
    await tx
      .update(hosts)
      .set({ ...(result.currentSystem ? { currentSystem: result.currentSystem, lastSeen: new Date() } : {}), lastDeployPhase: result.outcome, lastDeployAt: new Date() })
      .where(eq(hosts.id, hostId));
    // The rollout driver decides what this means for the deployment (next wave, failure gate, done).
    await emit(tx, { type: 'target.finished', deploymentId: updated.deploymentId, hostId });
    return true;
  });
}

/** A host came back: deployments waiting for it (unreleased targets) are advanced now, not at the next tick. */
export async function nudgeWaitingDeployments(hostId: string) {
  const waiting = await db()
    .selectDistinct({ id: deploymentTargets.deploymentId })
    .from(deploymentTargets)
    .innerJoin(deployments, eq(deployments.id, deploymentTargets.deploymentId))
    .where(and(eq(deploymentTargets.hostId, hostId), eq(deploymentTargets.phase, 'pending'), isNull(deploymentTargets.releasedAt), inArray(deployments.status, ROLLING_DEPLOYMENT_STATUSES)));
  for (const w of waiting) await nudgeRollout(w.id);
}

/**
 * Records what an agent's pre-switch checks found on one of its own targets; a blocking
 * report moves the target to `needs-decision`. Returns the decision to send back when one
 * was made already (the agent reconnected, or restarted while waiting).
 */
export async function recordCheckReport(
  hostId: string,
  report: TCheckReport,
): Promise<{ decided: Record<string, string> | null } | null> {
  return transaction(async (tx) => {
    const [before] = await tx
      .select({
        host: hosts.name,
        phase: deploymentTargets.phase,
        decision: deploymentTargets.decision,
        deploymentId: deploymentTargets.deploymentId,
        strategy: deployments.strategy,
        orgId: deployments.orgId,
        createdBy: deployments.createdBy,
      })
      .from(deploymentTargets)
      .innerJoin(deployments, eq(deployments.id, deploymentTargets.deploymentId))
      .innerJoin(hosts, eq(hosts.id, deploymentTargets.hostId))
      .where(and(eq(deploymentTargets.id, report.targetId), eq(deploymentTargets.hostId, hostId), inArray(deploymentTargets.phase, [...IN_FLIGHT_TARGET_PHASES])))
      .for('update', { of: deploymentTargets });
    if (!before) return null;
    const decided = parseDecision(before.decision);
    // The agent repeats its report while it waits: the first one changed the target, the repeats only ask for the decision.
    if (report.blocked && before.phase === 'needs-decision') return { decided };
    // The deployment's decision policy answers at once where it covers every error item.
    const byPolicy = report.blocked && !decided ? policyChoices(ZRollout.parse(before.strategy).decisions, report.items) : null;
    await tx
      .update(deploymentTargets)
      .set({
        checks: report.items,
        ...(report.blocked ? { phase: 'needs-decision' as const } : {}),
        ...(byPolicy ? { decision: byPolicy, decidedBy: null, decidedAt: new Date() } : {}),
        log: sql`right(${deploymentTargets.log} || ${`${new Date().toISOString()} pre-switch checks: ${report.items.length} item(s)${report.blocked ? (byPolicy ? ', decided by the deployment’s policy' : ', waiting for a decision') : ''}\n`}, 64000)`,
        updatedAt: new Date(),
      })
      .where(eq(deploymentTargets.id, report.targetId));
    if (byPolicy) {
      await recordAudit(tx, { system: 'decision policy', orgId: before.orgId, userId: before.createdBy }, {
        action: 'deployment.decide',
        objectType: 'deployment_target',
        objectId: report.targetId,
        after: { deploymentId: before.deploymentId, choices: byPolicy, by: 'policy' },
      });
    }
    const choices = decided ?? byPolicy;
    // The people who can decide are told once, with the change that blocked it.
    if (report.blocked && !choices) await emit(tx, { type: 'target.blocked', orgId: before.orgId, deploymentId: before.deploymentId, host: before.host });
    return report.blocked ? { decided: choices } : null;
  });
}

/**
 * `cancel` messages for the host's targets in flight whose deployment was cancelled. The
 * agent honours one until the profile changes, and refuses it after (the switch goes on
 * and is reported, and with no confirmation coming the host rolls back by itself).
 */
export async function cancelsFor(hostId: string): Promise<TCancel[]> {
  const rows = await db()
    .select({ targetId: deploymentTargets.id })
    .from(deploymentTargets)
    .innerJoin(deployments, eq(deployments.id, deploymentTargets.deploymentId))
    .where(and(eq(deploymentTargets.hostId, hostId), inArray(deploymentTargets.phase, [...IN_FLIGHT_TARGET_PHASES]), eq(deployments.status, 'cancelled')));
  return rows.map((r) => ({ type: 'cancel', id: crypto.randomUUID(), targetId: r.targetId }));
}

/** Decisions made for this host's blocked targets, to send to its agent. */
export async function decidedTargets(hostId: string) {
  const rows = await db()
    .select({ targetId: deploymentTargets.id, decision: deploymentTargets.decision })
    .from(deploymentTargets)
    .where(and(eq(deploymentTargets.hostId, hostId), eq(deploymentTargets.phase, 'needs-decision'), isNotNull(deploymentTargets.decision)));
  return rows.flatMap((r) => (r.decision ? [{ targetId: r.targetId, choices: r.decision }] : []));
}

/**
 * A `rollback` for one of the host's targets that changed its system: back to the system the
 * target replaced (null when it replaced nothing the server knows). Send it with the gateway.
 */
export async function rollbackMessage(hostId: string, targetId: string): Promise<TRollback | null> {
  const [target] = await db()
    .select({ previousSystem: deploymentTargets.previousSystem })
    .from(deploymentTargets)
    .where(and(eq(deploymentTargets.id, targetId), eq(deploymentTargets.hostId, hostId), inArray(deploymentTargets.phase, ['activating', 'confirming', 'succeeded'])));
  if (!target?.previousSystem) return null;
  return { type: 'rollback', id: crypto.randomUUID(), targetId, toSystem: target.previousSystem };
}
