// Time series for fleet health. The worker samples fleet-wide counts every few minutes
// (fleet_samples), agents' heartbeats leave per-host samples (host_metrics); both are
// rolled up into hours and days, and raw samples are dropped after a retention period.
import { sql } from 'drizzle-orm';
import { db, type Tx } from '@/lib/db/client';
import { HOST_STATUS_SQL } from '@/lib/hosts/status-sql';
import { hosts } from '@/lib/db/schema';

/** How long each resolution is kept. Days are kept for good: one row per host and day. */
export const RETENTION = { rawDays: 2, hourDays: 90 } as const;

const count = (condition: ReturnType<typeof sql>) => sql`count(*) filter (where ${condition})::int`;

/** One raw sample of every organisation's counts, in one statement. */
export async function sampleFleet(at = new Date()) {
  await db().execute(sql`
    insert into fleet_samples (org_id, resolution, at, total, online, drifted, failed, needs_reboot, low_disk)
    select ${hosts.orgId}, 'raw', ${at.toISOString()}::timestamptz, count(*)::int,
           ${count(HOST_STATUS_SQL.online)}, ${count(HOST_STATUS_SQL.drifted)}, ${count(HOST_STATUS_SQL.failed)},
           ${count(HOST_STATUS_SQL['needs-reboot'])}, ${count(HOST_STATUS_SQL['low-disk'])}
    from ${hosts} where ${hosts.retiredAt} is null group by ${hosts.orgId}
    on conflict do nothing`);
}

async function mark(tx: Tx, name: string, fallback: Date): Promise<Date> {
  const rows = await tx.execute<{ up_to: string }>(sql`select up_to from rollup_marks where name = ${name} for update`);
  const row = [...rows][0];
  return row ? new Date(row.up_to) : fallback;
}

async function setMark(tx: Tx, name: string, upTo: Date) {
  await tx.execute(sql`insert into rollup_marks (name, up_to) values (${name}, ${upTo.toISOString()}::timestamptz) on conflict (name) do update set up_to = excluded.up_to`);
}

/**
 * Rolls completed hours (and days) since the last run into coarser rows, each range once
 * (the mark moves in the same transaction), then drops what is past its retention.
 */
export async function rollUp(now = new Date()) {
  const hour = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const oldestRaw = new Date(now.getTime() - RETENTION.rawDays * 86_400_000);
  await db().transaction(async (tx) => {
    const from = await mark(tx, 'hosts:hour', oldestRaw);
    if (from < hour) {
      await tx.execute(sql`
        insert into host_metrics (host_id, resolution, at, online, uptime_seconds, load1, mem_used_bytes, mem_total_bytes, store_free_bytes, failed_units)
        select host_id, 'hour', date_trunc('hour', at), bool_or(online), max(uptime_seconds), avg(load1), avg(mem_used_bytes)::bigint,
               max(mem_total_bytes), min(store_free_bytes), max(failed_units)
        from host_metrics where resolution = 'raw' and at >= ${from.toISOString()}::timestamptz and at < ${hour.toISOString()}::timestamptz
        group by host_id, date_trunc('hour', at)
        on conflict do nothing`);
      await tx.execute(sql`
        insert into fleet_samples (org_id, resolution, at, total, online, drifted, failed, needs_reboot, low_disk)
        select org_id, 'hour', date_trunc('hour', at), round(avg(total))::int, round(avg(online))::int, round(avg(drifted))::int,
               round(avg(failed))::int, round(avg(needs_reboot))::int, round(avg(low_disk))::int
        from fleet_samples where resolution = 'raw' and at >= ${from.toISOString()}::timestamptz and at < ${hour.toISOString()}::timestamptz
        group by org_id, date_trunc('hour', at)
        on conflict do nothing`);
      await setMark(tx, 'hosts:hour', hour);
    }
    const fromDay = await mark(tx, 'hosts:day', new Date(now.getTime() - RETENTION.hourDays * 86_400_000));
    if (fromDay < day) {
      await tx.execute(sql`
        insert into host_metrics (host_id, resolution, at, online, uptime_seconds, load1, mem_used_bytes, mem_total_bytes, store_free_bytes, failed_units)
        select host_id, 'day', date_trunc('day', at at time zone 'UTC') at time zone 'UTC', bool_or(online), max(uptime_seconds), avg(load1),
               avg(mem_used_bytes)::bigint, max(mem_total_bytes), min(store_free_bytes), max(failed_units)
        from host_metrics where resolution = 'hour' and at >= ${fromDay.toISOString()}::timestamptz and at < ${day.toISOString()}::timestamptz
        group by host_id, 3
        on conflict do nothing`);
      await tx.execute(sql`
        insert into fleet_samples (org_id, resolution, at, total, online, drifted, failed, needs_reboot, low_disk)
        select org_id, 'day', date_trunc('day', at at time zone 'UTC') at time zone 'UTC', round(avg(total))::int, round(avg(online))::int,
               round(avg(drifted))::int, round(avg(failed))::int, round(avg(needs_reboot))::int, round(avg(low_disk))::int
        from fleet_samples where resolution = 'hour' and at >= ${fromDay.toISOString()}::timestamptz and at < ${day.toISOString()}::timestamptz
        group by org_id, 3
        on conflict do nothing`);
      await setMark(tx, 'hosts:day', day);
    }
  });
  const hourCutoff = new Date(now.getTime() - RETENTION.hourDays * 86_400_000).toISOString();
  await db().execute(sql`delete from host_metrics where resolution = 'raw' and at < ${oldestRaw.toISOString()}::timestamptz`);
  await db().execute(sql`delete from host_metrics where resolution = 'hour' and at < ${hourCutoff}::timestamptz`);
  await db().execute(sql`delete from fleet_samples where resolution = 'raw' and at < ${oldestRaw.toISOString()}::timestamptz`);
  await db().execute(sql`delete from fleet_samples where resolution = 'hour' and at < ${hourCutoff}::timestamptz`);
}

/** A host's samples for a chart: hourly over the last `days`, then the raw samples of the hour in progress. */
export async function hostMetricsSeries(hostId: string, days = 7) {
  const since = new Date(Date.now() - days * 86_400_000).toISOString();
  const rows = await db().execute<{ at: string; resolution: string; online: boolean; load1: number | null; mem_used_bytes: number | null; mem_total_bytes: number | null; store_free_bytes: number | null; failed_units: number | null }>(sql`
    select at, resolution, online, load1, mem_used_bytes, mem_total_bytes, store_free_bytes, failed_units from host_metrics
    where host_id = ${hostId} and at >= ${since}::timestamptz and (
      resolution = 'hour' or (resolution = 'raw' and at >= coalesce((select max(at) + interval '1 hour' from host_metrics where host_id = ${hostId} and resolution = 'hour'), ${since}::timestamptz))
    )
    order by at`);
  return [...rows].map((r) => ({
    at: new Date(r.at).toISOString(),
    online: r.online,
    load1: r.load1 === null ? null : Number(r.load1),
    memUsedBytes: r.mem_used_bytes === null ? null : Number(r.mem_used_bytes),
    memTotalBytes: r.mem_total_bytes === null ? null : Number(r.mem_total_bytes),
    storeFreeBytes: r.store_free_bytes === null ? null : Number(r.store_free_bytes),
    failedUnits: r.failed_units,
  }));
}
