// How the host list answers at 10,000 hosts: our server-side query (a page, with
// search, tag and status filters, sorting) against loading every host, which is what
// a client-side table would have to do. Prints p50/p95 of each, measured in one run.
//   npx tsx bench/hosts-list.ts           (embedded PostgreSQL, or DATABASE_URL's server)
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { callerForUser } from '@/lib/auth/membership';
import { closeDb, db } from '@/lib/db/client';
import { startEmbeddedPostgres } from '@/lib/db/embedded';
import { runMigrations } from '@/lib/db/migrate';
import { hosts } from '@/lib/db/schema';
import { listHosts } from '@/lib/hosts/inventory';
import { ZHostListQuery } from '@/lib/hosts/schemas';
import { createDatabase, databaseUrl, dropDatabasesLike, uniqueName } from '../test/databases';
import { seedFleet } from './seed';
import { timeRuns } from './timing';

const COUNT = Number(process.env.BENCH_HOSTS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 50);

const time = (fn: () => Promise<unknown>) => timeRuns(fn, RUNS, 5);

const tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-bench-'));
const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(tmp);
const server = process.env.DATABASE_URL ?? (embedded?.url as string);
const name = uniqueName('flotilla_bench');
await createDatabase(server, name);
process.env.DATABASE_URL = databaseUrl(server, name);
try {
  await runMigrations(process.env.DATABASE_URL);
  const { orgId, userId } = await seedFleet(COUNT);
  const caller = await callerForUser(userId);
  if (!caller) throw new Error('no caller');
  const q = (raw: Record<string, unknown>) => ZHostListQuery.parse(raw);
  const cases: [string, () => Promise<unknown>][] = [
    ['ours: first page of 50, by name', () => listHosts(caller, q({}))],
    ['ours: page 150 of 200', () => listHosts(caller, q({ page: 150 }))],
    ['ours: search "db-0" + tag eu', () => listHosts(caller, q({ q: 'db-0', tag: 'eu' }))],
    ['ours: offline, by last seen', () => listHosts(caller, q({ status: 'offline', sort: 'lastSeen', dir: 'desc' }))],
    ['baseline: load all hosts', () => db().select().from(hosts).where(eq(hosts.orgId, orgId))],
  ];
  console.log(`host list with ${COUNT} hosts, ${RUNS} runs each (${embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'})`);
  for (const [label, fn] of cases) {
    const { p50, p95 } = await time(fn);
    console.log(`${label.padEnd(36)} p50 ${p50.toFixed(1).padStart(7)} ms   p95 ${p95.toFixed(1).padStart(7)} ms`);
  }
} finally {
  await closeDb();
  await dropDatabasesLike(server, name);
  await embedded?.stop();
  await rm(tmp, { recursive: true, force: true });
}
process.exit(0);
