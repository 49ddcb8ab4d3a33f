// Fleet health at 10,000 hosts with 30 days of metrics: the overview (counts, agent
// versions, nixpkgs ages, 30 days of fleet samples, deployments per day) and the host
// table (first page, a status filter from an overview card, a search, a deep page),
// against computing the same 30-day chart from per-host samples, which is what the
// overview would cost without fleet samples. Prints p50/p95 of each, measured in one run.
//   npx tsx bench/fleet-health.ts           (embedded PostgreSQL, or DATABASE_URL's server)
//   BENCH_HOSTS=2000 BENCH_DAYS=7 npx tsx bench/fleet-health.ts
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { callerForUser } from '@/lib/auth/membership';
import { closeDb, db } from '@/lib/db/client';
import { startEmbeddedPostgres } from '@/lib/db/embedded';
import { runMigrations } from '@/lib/db/migrate';
import { fleetOverview } from '@/lib/health/overview';
import { listHosts } from '@/lib/hosts/inventory';
import { ZHostListQuery } from '@/lib/hosts/schemas';
import { createDatabase, databaseUrl, dropDatabasesLike, uniqueName } from '../test/databases';
import { seedFleet } from './seed';
import { timeRuns } from './timing';

const COUNT = Number(process.env.BENCH_HOSTS ?? 10_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const BUDGET_MS = 300;

const time = (fn: () => Promise<unknown>) => timeRuns(fn, RUNS, 3);

const tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-bench-'));
const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(tmp);
const server = process.env.DATABASE_URL ?? (embedded?.url as string);
const name = uniqueName('flotilla_bench');
await createDatabase(server, name);
process.env.DATABASE_URL = databaseUrl(server, name);
try {
  await runMigrations(process.env.DATABASE_URL);
  const seeding = performance.now();
  const { orgId, userId } = await seedFleet(COUNT, DAYS);
  const [rows] = await db().execute<{ n: number }>(sql`select count(*)::int as n from host_metrics`);
  console.log(`seeded ${COUNT} hosts and ${rows?.n} host samples (${DAYS} days, hourly) in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);
  const caller = await callerForUser(userId);
  if (!caller) throw new Error('no caller');
  const q = (raw: Record<string, unknown>) => ZHostListQuery.parse(raw);
  const cases: [string, () => Promise<unknown>][] = [
    ['overview (all of it)', () => fleetOverview(caller)],
    ['host table: first page', () => listHosts(caller, q({}))],
    ['host table: "failed" card', () => listHosts(caller, q({ status: 'failed' }))],
    ['host table: "outdated" card', () => listHosts(caller, q({ status: 'outdated' }))],
    ['host table: offline by last seen', () => listHosts(caller, q({ status: 'offline', sort: 'lastSeen', dir: 'desc' }))],
    ['host table: search + tag, page 3', () => listHosts(caller, q({ q: 'web', tag: 'eu', page: 3 }))],
    ['host table: least store free first, page 10', () => listHosts(caller, q({ sort: 'storeFree', page: 10 }))],
    ['host table: by agent version, descending', () => listHosts(caller, q({ sort: 'agentVersion', dir: 'desc' }))],
    [
      'baseline: 30-day online chart from host samples',
      () =>
        db().execute(sql`select date_trunc('hour', m.at) as t, count(*) filter (where m.online) from host_metrics m join hosts h on h.id = m.host_id
                         where h.org_id = ${orgId}::uuid and m.resolution = 'hour' and m.at > now() - ${DAYS} * interval '1 day' group by 1 order by 1`),
    ],
  ];
  console.log(`fleet health with ${COUNT} hosts, ${RUNS} runs each (${embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'}); budget ${BUDGET_MS} ms`);
  for (const [label, fn] of cases) {
    const { p50, p95 } = await time(fn);
    const verdict = label.startsWith('baseline') ? '' : p95 <= BUDGET_MS ? '  ok' : '  OVER BUDGET';
    console.log(`${label.padEnd(48)} p50 ${p50.toFixed(1).padStart(8)} ms   p95 ${p95.toFixed(1).padStart(8)} ms${verdict}`);
  }
} finally {
  await closeDb();
  await dropDatabasesLike(server, name);
  await embedded?.stop();
  await rm(tmp, { recursive: true, force: true });
}
process.exit(0);
