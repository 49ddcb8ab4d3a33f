// The fleet overview: how many hosts are in each state now, which agents and nixpkgs
// ages they run, and the same counts over time from the sampled series. Every count
// uses the host status definitions of lib/hosts/status-sql.ts, so each number matches
// the host list it links to.
import type { Caller } from '@/lib/auth/caller';
import { and, asc, eq, gte, isNull, sql } from 'drizzle-orm';
import { db } from '@/lib/db/client';
import { deployments, deploymentTargets, fleetSamples, hosts } from '@/lib/db/schema';
import { FAILED_DEPLOYMENT_STATUSES, FAILED_TARGET_PHASES } from '@/lib/db/statuses';
import { HOST_STATUS_SQL, OUTDATED_DAYS } from '@/lib/hosts/status-sql';

const count = (condition: ReturnType<typeof sql>) => sql<number>`count(*) filter (where ${condition})::int`;

/** Every count of the overview in one pass over the organisation's hosts. */
export async function fleetCounts(orgId: string) {
  const age = sql`current_date - ${hosts.nixpkgsDate}`;
  const [row] = await db()
    .select({
      total: sql<number>`count(*)::int`,
      online: count(HOST_STATUS_SQL.online),
      offline: count(HOST_STATUS_SQL.offline),
      neverSeen: count(HOST_STATUS_SQL['never-seen']),
      upToDate: count(HOST_STATUS_SQL['up-to-date']),
      drifted: count(HOST_STATUS_SQL.drifted),
      failed: count(HOST_STATUS_SQL.failed),
      needsReboot: count(HOST_STATUS_SQL['needs-reboot']),
      lowDisk: count(HOST_STATUS_SQL['low-disk']),
      unitsFailed: count(HOST_STATUS_SQL['units-failed']),
      outdated: count(HOST_STATUS_SQL.outdated),
      fresh: count(sql`${age} < 30`),
      // Up to and including OUTDATED_DAYS: "outdated" starts after it (status-sql.ts), so every dated host is in one bucket.
      aging: count(sql`${age} >= 30 and ${age} <= ${OUTDATED_DAYS}`),
      unknownAge: count(sql`${hosts.nixpkgsDate} is null`),
    })
    .from(hosts)
    .where(and(eq(hosts.orgId, orgId), isNull(hosts.retiredAt)));
  const n = (v: number | undefined) => v ?? 0;
  return {
    total: n(row?.total),
    online: n(row?.online),
    offline: n(row?.offline),
    neverSeen: n(row?.neverSeen),
    upToDate: n(row?.upToDate),
    drifted: n(row?.drifted),
    failed: n(row?.failed),
    needsReboot: n(row?.needsReboot),
    lowDisk: n(row?.lowDisk),
    unitsFailed: n(row?.unitsFailed),
    outdated: n(row?.outdated),
    nixpkgsAges: { fresh: n(row?.fresh), aging: n(row?.aging), outdated: n(row?.outdated), unknown: n(row?.unknownAge) },
  };
}

export type FleetCounts = Awaited<ReturnType<typeof fleetCounts>>;

/** Hosts per agent version (null: never reported), for the hosts page's filter. */
export function agentVersions(caller: Caller) {
  return agentVersionCounts(caller.org.id);
}

export async function agentVersionCounts(orgId: string) {
  const rows = await db()
    .select({ version: hosts.agentVersion, hosts: sql<number>`count(*)::int` })
    .from(hosts)
    .where(and(eq(hosts.orgId, orgId), isNull(hosts.retiredAt)))
    .groupBy(hosts.agentVersion)
    .orderBy(sql`count(*) desc`);
  return rows;
}

/**
 * The fleet over the last `days`, hour by hour (the rollups of completed hours), then the raw
 * samples of the hour in progress, oldest first.
 */
export async function fleetHistory(orgId: string, days = 30) {
  const since = new Date(Date.now() - days * 86_400_000);
  const columns = {
    at: fleetSamples.at,
    total: fleetSamples.total,
    online: fleetSamples.online,
    drifted: fleetSamples.drifted,
    failed: fleetSamples.failed,
    needsReboot: fleetSamples.needsReboot,
    lowDisk: fleetSamples.lowDisk,
  };
  const hourly = await db()
    .select(columns)
    .from(fleetSamples)
    .where(and(eq(fleetSamples.orgId, orgId), eq(fleetSamples.resolution, 'hour'), gte(fleetSamples.at, since)))
    .orderBy(asc(fleetSamples.at));
  const lastHour = hourly.at(-1)?.at;
  const recent = await db()
    .select(columns)
    .from(fleetSamples)
    .where(and(eq(fleetSamples.orgId, orgId), eq(fleetSamples.resolution, 'raw'), gte(fleetSamples.at, lastHour ? new Date(lastHour.getTime() + 3_600_000) : since)))
    .orderBy(asc(fleetSamples.at));
  return [...hourly, ...recent].map((r) => ({ ...r, at: r.at.toISOString() }));
}

/**
 * A deployment that failed: it failed or halted, or it was rolled back after one of its hosts
 * failed (the failure gate's rollback-all, or a person rolling back a halted rollout). A person
 * rolling back a rollout whose hosts all succeeded undid a choice, not a failure: counting it
 * as failed would contradict the Failed card, which counts hosts whose last deployment failed.
 */
const deploymentFailed = sql`(${deployments.status} in ${FAILED_DEPLOYMENT_STATUSES} or (${deployments.status} = 'rolled-back' and exists (
  select 1 from ${deploymentTargets} where ${deploymentTargets.deploymentId} = ${deployments.id} and ${deploymentTargets.phase} in ${FAILED_TARGET_PHASES})))`;

/**
 * Deployments started per day: how many succeeded, failed (deploymentFailed), or were rolled
 * back on purpose, and the success rate of those that succeeded or failed, for the last `days`.
 */
export async function deploymentsPerDay(orgId: string, days = 30) {
  const since = new Date(Date.now() - days * 86_400_000);
  const rows = await db()
    .select({
      day: sql<string>`to_char(date_trunc('day', ${deployments.createdAt} at time zone 'UTC'), 'YYYY-MM-DD')`,
      started: sql<number>`count(*)::int`,
      succeeded: count(sql`${deployments.status} = 'succeeded'`),
      failed: count(deploymentFailed),
      rolledBack: count(sql`${deployments.status} = 'rolled-back' and not ${deploymentFailed}`),
    })
    .from(deployments)
    .where(and(eq(deployments.orgId, orgId), gte(deployments.createdAt, since)))
    .groupBy(sql`1`)
    .orderBy(sql`1`);
  return rows.map((r) => ({ ...r, successRate: r.succeeded + r.failed > 0 ? r.succeeded / (r.succeeded + r.failed) : null }));
}

/**
 * The series ends with the counts the cards show: the last sample is up to five minutes old
 * (and hours are averages), so without this point the charts disagree with the cards. With no
 * sample yet there is no series to end: the charts say that the worker has not sampled.
 */
export function endWithNow(history: Awaited<ReturnType<typeof fleetHistory>>, now: FleetCounts, at: Date) {
  if (history.length === 0) return history;
  const { total, online, drifted, failed, needsReboot, lowDisk } = now;
  return [...history, { at: at.toISOString(), total, online, drifted, failed, needsReboot, lowDisk }];
}

export async function fleetOverview(caller: Caller) {
  const orgId = caller.org.id;
  const [current, agents, samples, perDay] = await Promise.all([fleetCounts(orgId), agentVersionCounts(orgId), fleetHistory(orgId), deploymentsPerDay(orgId)]);
  const { nixpkgsAges, ...counts } = current;
  return { counts, agents, nixpkgsAges, history: endWithNow(samples, current, new Date()), deploymentsPerDay: perDay };
}
