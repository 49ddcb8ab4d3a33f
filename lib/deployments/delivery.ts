// Delivery of deployment targets to connected agents, and what their reports do to
// the targets. Each transition is one guarded UPDATE, so two server processes, a
// restart or a replayed message never send a target twice or move it backwards.
import { and, type AnyColumn, eq, inArray, isNotNull, notInArray, sql } from 'drizzle-orm';
import { batchLoader } from '@/lib/db/batch-loader';
import { db } from '@/lib/db/client';
import { ZRollout, type TRollout } from '@/lib/db/json-types';
import { deployments, deploymentTargets, hosts } from '@/lib/db/schema';
import { FINAL_TARGET_PHASES, IN_FLIGHT_TARGET_PHASES, ROLLING_DEPLOYMENT_STATUSES } from '@/lib/db/statuses';
import type { TCancel, TCheckReport, TDeploy, TResult, TRollback } from '@/lib/agents/protocol';
import { recordAudit } from '@/lib/audit/record';
import { emit, transaction } from '@/lib/events/outbox';
import { policyChoices } from './decision-policy';
import { nudgeRollout } from './events';
import { parseDecision } from './schemas';

/** SQL: the host in this column has a target in flight. */
export const hostIsBusy = (hostId: AnyColumn) =>
  sql`exists (select 1 from ${deploymentTargets} busy where busy.host_id = ${hostId} and busy.phase in (${sql.join(
    IN_FLIGHT_TARGET_PHASES.map((p) => sql`${p}`),
    sql`, `,
  )}))`;

/** The host's next released target as a `deploy` message, moved to `sent`; null when there is none to send now. */
export async function nextDeploy(hostId: string): Promise<TDeploy | null> {
  return (await claimDeploys([hostId]))[0] ?? null;
}

/**
 * The next released target of each of these hosts that has nothing in flight, moved to
 * `sent`, as `deploy` messages to send: one transaction of three statements for any
 * number of hosts (a deployment released to thousands is delivered in a few of them,
 * not one per host). One host, one activation at a time: the agent works through them
 * in order anyway. A newer deployment supersedes an older one for the same host.
 */
export async function claimDeploys(hostIds: string[]): Promise<(TDeploy & { hostId: string })[]> {
  if (hostIds.length === 0) return [];
  const ids = `{${hostIds.join(',')}}`;
  return db().transaction(async (tx) => {
    // Locked in id order, as every multi-target write is: two claims wait, never deadlock.
    const pending = await tx
      .select({ id: deploymentTargets.id, hostId: deploymentTargets.hostId, deploymentId: deploymentTargets.deploymentId, storePath: deploymentTargets.storePath, strategy: deployments.strategy, createdAt: deployments.createdAt })
      .from(deploymentTargets)
      .innerJoin(deployments, eq(deployments.id, deploymentTargets.deploymentId))
      .where(
        and(
          sql`${deploymentTargets.hostId} = any(${ids}::uuid[])`,
          eq(deploymentTargets.phase, 'pending'),
          isNotNull(deploymentTargets.releasedAt),
          isNotNull(deploymentTargets.storePath),
          // A paused deployment keeps what it released until it resumes.
          inArray(deployments.status, ROLLING_DEPLOYMENT_STATUSES),
          sql`not ${hostIsBusy(deploymentTargets.hostId)}`,
        ),
      )
      .orderBy(deploymentTargets.id)
      .for('update', { of: deploymentTargets });
    const newest = new Map<string, (typeof pending)[number]>();
    for (const p of pending) {
      const seen = newest.get(p.hostId);
      if (!seen || p.createdAt > seen.createdAt) newest.set(p.hostId, p);
    }
    const superseded = pending.filter((p) => newest.get(p.hostId) !== p);
    for (const o of superseded) {
      await tx
        .update(deploymentTargets)
        .set({ phase: 'skipped', error: `superseded by deployment ${newest.get(o.hostId)?.deploymentId}`, finishedAt: new Date(), updatedAt: new Date() })
        .where(and(eq(deploymentTargets.id, o.id), eq(deploymentTargets.phase, 'pending')));
    }
    if (newest.size === 0) return [];
    // What the host runs now is where a rollback of this deployment takes it.
    const sent = await tx.execute<{ id: string }>(sql`
      update ${deploymentTargets} t set phase = 'sent', sent_at = now(), previous_system = h.current_system, attempts = t.attempts + 1, updated_at = now()
      from ${hosts} h
      where t.id = any(${`{${[...newest.values()].map((p) => p.id).join(',')}}`}::uuid[]) and h.id = t.host_id and t.phase = 'pending'
      returning t.id`);
    const sentIds = new Set(sent.map((r) => r.id));
    // Each deployment's strategy parsed once, not once per host.
    const strategies = new Map<string, TRollout>();
    return [...newest.values()]
      .filter((p) => sentIds.has(p.id) && p.storePath)
      .map((p) => {
        let strategy = strategies.get(p.deploymentId);
        if (!strategy) strategies.set(p.deploymentId, (strategy = ZRollout.parse(p.strategy ?? {})));
        return { ...deployMessage(p.id, p.deploymentId, p.storePath as string, strategy), hostId: p.hostId };
      });
  });
}

/** Hosts with a released target of this deployment still to send (the gateway keeps those connected to it). */
export async function releasedHosts(deploymentId: string): Promise<string[]> {
  const rows = await db()
    .select({ hostId: deploymentTargets.hostId })
    .from(deploymentTargets)
    .where(and(eq(deploymentTargets.deploymentId, deploymentId), eq(deploymentTargets.phase, 'pending'), isNotNull(deploymentTargets.releasedAt)));
  return rows.map((r) => r.hostId);
}

function deployMessage(targetId: string, deploymentId: string, storePath: string, strategy: TRollout): TDeploy {
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

/** A host's targets that have not ended, with their deployment's status: what a hello needs to know, in one query. */
export type UnfinishedTarget = {
  id: string;
  deploymentId: string;
  phase: (typeof deploymentTargets.$inferSelect)['phase'];
  storePath: string | null;
  releasedAt: Date | null;
  decision: unknown;
  status: (typeof deployments.$inferSelect)['status'];
  strategy: unknown;
};

export async function unfinishedTargets(hostId: string): Promise<UnfinishedTarget[]> {
  return unfinishedByHost.load(hostId);
}

// The hellos of a few milliseconds read in one query (a reconnect storm brings thousands a second).
const unfinishedByHost = batchLoader<string, UnfinishedTarget[]>(async (hostIds) => {
  const rows = await db()
    .select({
      hostId: deploymentTargets.hostId,
      id: deploymentTargets.id,
      deploymentId: deploymentTargets.deploymentId,
      phase: deploymentTargets.phase,
      storePath: deploymentTargets.storePath,
      releasedAt: deploymentTargets.releasedAt,
      decision: deploymentTargets.decision,
      status: deployments.status,
      strategy: deployments.strategy,
    })
    .from(deploymentTargets)
    .innerJoin(deployments, eq(deployments.id, deploymentTargets.deploymentId))
    .where(and(sql`${deploymentTargets.hostId} = any(${`{${[...new Set(hostIds)].join(',')}}`}::uuid[])`, notInArray(deploymentTargets.phase, [...FINAL_TARGET_PHASES])));
  const byHost = new Map<string, UnfinishedTarget[]>();
  for (const { hostId, ...target } of rows) byHost.set(hostId, [...(byHost.get(hostId) ?? []), target]);
  return hostIds.map((id) => byHost.get(id) ?? []);
});

const inFlight = (t: UnfinishedTarget) => (IN_FLIGHT_TARGET_PHASES as readonly string[]).includes(t.phase);
const rolling = (t: UnfinishedTarget) => (ROLLING_DEPLOYMENT_STATUSES as readonly string[]).includes(t.status);

/**
 * The host's targets in flight that its agent, just (re)connected, neither runs nor has a
 * result for: the `deploy` never reached it (a server or a link died with it in flight), or
 * its result was written into a connection that was already dead. They are sent again as
 * they were: the agent answers a target its journal knows with the recorded result, and
 * starts one it never received; either way nothing is activated twice.
 */
export function lostDeploys(targets: UnfinishedTarget[], known: string[]): TDeploy[] {
  return targets
    .filter((t) => inFlight(t) && t.storePath && !known.includes(t.id))
    .map((t) => deployMessage(t.id, t.deploymentId, t.storePath as string, ZRollout.parse(t.strategy ?? {})));
}

/** Whether one of these targets waits to be sent (released, its deployment rolling). */
export function hasDeliverable(targets: UnfinishedTarget[]): boolean {
  return targets.some((t) => t.phase === 'pending' && t.releasedAt !== null && t.storePath !== null && rolling(t));
}

/** Rolling deployments holding a place for this host (an unreleased target): nudged when it comes back. */
export function waitingDeployments(targets: UnfinishedTarget[]): string[] {
  return [...new Set(targets.filter((t) => t.phase === 'pending' && !t.releasedAt && rolling(t)).map((t) => t.deploymentId))];
}

/**
 * `cancel` messages for the host's targets in flight whose deployment was cancelled. The
 * agent honours one until the profile changes, and refuses it after (the switch goes on
 * and is reported, and with no confirmation coming the host rolls back by itself).
 */
export function cancelsFor(targets: UnfinishedTarget[]): TCancel[] {
  return targets.filter((t) => inFlight(t) && t.status === 'cancelled').map((t) => ({ type: 'cancel', id: crypto.randomUUID(), targetId: t.id }));
}

/** Decisions made for this host's blocked targets, to send to its agent. */
export function decidedTargets(targets: UnfinishedTarget[]) {
  return targets.flatMap((t) => {
    const choices = t.phase === 'needs-decision' ? parseDecision(t.decision) : null;
    return choices ? [{ targetId: t.id, choices }] : [];
  });
}

type Progress = { hostId: string; targetId: string; phase: 'downloading' | 'activating' | 'confirming'; message: string };

/**
 * Records an agent's progress on one of its own targets. Returns true when the server
 * should confirm. Lines gather in `progress`, a short text kept in the row itself (its
 * last PROGRESS_CHARS characters), and join the log with the result: a progress message
 * never rewrites the growing log, which PostgreSQL keeps out of line and would copy whole.
 */
const PROGRESS_CHARS = 1_500;
export async function recordProgress(hostId: string, targetId: string, phase: Progress['phase'], message: string): Promise<boolean> {
  return (await recordProgressBatch([{ hostId, targetId, phase, message }])).has(reportKey(hostId, targetId));
}

/** How a batch names one host's report on one target: a target id alone could be a foreign host's claim. */
export const reportKey = (hostId: string, targetId: string) => `${hostId}:${targetId}`;

/**
 * Progress of many targets in one statement (lib/deployments/target-writer.ts gathers
 * them): the reportKeys of targets now `confirming` whose deployment was not cancelled, which the
 * server confirms (a cancelled one is left to the agent's own timeout, which rolls it back).
 * Messages for one target keep their order; the last one's phase wins.
 */
export async function recordProgressBatch(items: Progress[]): Promise<Set<string>> {
  const merged = new Map<string, { target_id: string; host_id: string; phase: string; lines: string }>();
  for (const p of items) {
    const line = `${new Date().toISOString()} ${p.message.slice(0, PROGRESS_CHARS)}\n`;
    // Keyed by host too: another host naming this target must not displace the owner's lines
    // (the update below matches only the owner's row, so a foreign key changes nothing).
    const key = reportKey(p.hostId, p.targetId);
    const seen = merged.get(key);
    merged.set(key, { target_id: p.targetId, host_id: p.hostId, phase: p.phase, lines: `${seen?.lines ?? ''}${line}` });
  }
  if (merged.size === 0) return new Set();
  const t = deploymentTargets;
  const rows = await db().execute<{ id: string; host_id: string; phase: string; status: string }>(sql`
    with v as (select * from jsonb_to_recordset(${JSON.stringify([...merged.values()])}::jsonb) as x(target_id uuid, host_id uuid, phase text, lines text))
    update ${t} set phase = v.phase::target_phase, progress = right(coalesce(${t.progress}, '') || v.lines, ${PROGRESS_CHARS}), updated_at = now(),
      confirmed_at = case when v.phase = 'confirming' then now() else ${t.confirmedAt} end
    from v, ${deployments} d
    where ${t.id} = v.target_id and ${t.hostId} = v.host_id and d.id = ${t.deploymentId}
      and ${t.phase} in (${sql.join(
        IN_FLIGHT_TARGET_PHASES.map((p) => sql`${p}`),
        sql`, `,
      )})
    returning ${t.id} as id, ${t.hostId} as host_id, v.phase as phase, d.status as status`);
  return new Set(rows.filter((r) => r.phase === 'confirming' && r.status !== 'cancelled').map((r) => reportKey(r.host_id, r.id)));
}

/**
 * Records an agent's result once (a result repeated in a later hello changes nothing); the
 * one later change is `rolled-back` for a target that succeeded (a `rollback` the server sent).
 * The target's outcome and the host's system change in one transaction: the rollout
 * driver must never see a canary `succeeded` on a host still running the old system
 * (it then judged the canary unhealthy, "no longer runs the deployed system").
 */
export async function recordResult(hostId: string, result: TResult) {
  return (await recordResults([{ hostId, result }])).has(reportKey(hostId, result.targetId));
}

/**
 * Results of many targets in one transaction (lib/deployments/target-writer.ts gathers
 * them): the reportKeys of the results it recorded. Their hosts are locked in id order first, as
 * every multi-host write is; each deployment that moved is woken once, at the commit.
 */
export async function recordResults(items: { hostId: string; result: TResult }[]): Promise<Set<string>> {
  // One result per host and target, the last word winning. Keyed by host too: a foreign host's
  // result for the same target in the same batch must not replace the owner's, which the
  // host guard below would then never see (the foreign one matches no row).
  const byTarget = new Map(items.map((i) => [reportKey(i.hostId, i.result.targetId), i]));
  if (byTarget.size === 0) return new Set();
  const rows = [...byTarget.values()].map(({ hostId, result: r }) => ({
    target_id: r.targetId,
    host_id: hostId,
    outcome: r.outcome,
    error: r.outcome === 'failed' || r.outcome === 'cancelled' ? r.reason : null,
    rollback_reason: r.outcome === 'rolled-back' ? r.reason : null,
    logs_tail: r.logsTail,
    current_system: r.currentSystem,
  }));
  const hostIds = `{${[...new Set(rows.map((r) => r.host_id))].join(',')}}`;
  const t = deploymentTargets;
  const final = sql.join(
    FINAL_TARGET_PHASES.map((p) => sql`${p}`),
    sql`, `,
  );
  return db().transaction(async (tx) => {
    await tx.execute(sql`select 1 from ${hosts} where id = any(${hostIds}::uuid[]) order by id for no key update`);
    // Recorded once (a result repeated in a later hello changes nothing); the one later change
    // is `rolled-back` for a target that succeeded (a `rollback` the server sent).
    const updated = await tx.execute<{ id: string; deployment_id: string; host_id: string }>(sql`
      with v as (select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(
        target_id uuid, host_id uuid, outcome text, error text, rollback_reason text, logs_tail text, current_system text))
      update ${t} set phase = v.outcome::target_phase, error = v.error, rollback_reason = v.rollback_reason,
        -- What the agent said on the way, then its own log tail.
        log = right(${t.log} || coalesce(${t.progress}, '') || v.logs_tail, 64000), progress = null, finished_at = now(), updated_at = now()
      from v
      where ${t.id} = v.target_id and ${t.hostId} = v.host_id and ${t.phase} <> 'pending'
        and (${t.phase} not in (${final}) or (v.outcome = 'rolled-back' and ${t.phase} = 'succeeded'))
      returning ${t.id} as id, ${t.deploymentId} as deployment_id, ${t.hostId} as host_id`);
    if (updated.length === 0) return new Set<string>();
    const recorded = new Set(updated.map((u) => reportKey(u.host_id, u.id)));
    // last_seen moves too, so a heartbeat sampled before this result cannot overwrite the system.
    const written = [...new Map(rows.filter((r) => recorded.has(reportKey(r.host_id, r.target_id))).map((r) => [r.host_id, r])).values()];
    await tx.execute(sql`
      with v as (select * from jsonb_to_recordset(${JSON.stringify(written)}::jsonb) as x(host_id uuid, outcome text, current_system text))
      update ${hosts} h set current_system = coalesce(v.current_system, h.current_system),
        last_seen = case when v.current_system is null then h.last_seen else now() end,
        last_deploy_phase = v.outcome, last_deploy_at = now()
      from v where h.id = v.host_id`);
    // The rollout driver decides what this means for each deployment (next wave, failure gate,
    // done). A wake-up, sent when this commits; a lost one waits for the driver's next tick.
    for (const deploymentId of new Set(updated.map((u) => u.deployment_id))) await nudgeRollout(deploymentId, tx);
    return recorded;
  });
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
