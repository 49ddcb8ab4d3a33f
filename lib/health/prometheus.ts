// Fleet gauges for Prometheus, computed at scrape time for the scraping token's
// organisation (a token never sees another organisation's numbers), next to the
// process metrics of lib/health/metrics.ts.
import type { Caller } from '@/lib/auth/caller';
import { eq, sql } from 'drizzle-orm';
import { Gauge, Registry } from 'prom-client';
import { db } from '@/lib/db/client';
import { deployments } from '@/lib/db/schema';
import { agentVersionCounts, fleetCounts } from './overview';

const STATUS_LABELS: Record<string, string> = {
  online: 'online',
  offline: 'offline',
  neverSeen: 'never-seen',
  upToDate: 'up-to-date',
  drifted: 'drifted',
  failed: 'failed',
  needsReboot: 'needs-reboot',
  lowDisk: 'low-disk',
  unitsFailed: 'units-failed',
  outdated: 'outdated',
};

/** Jobs waiting in pg-boss by queue; empty when pg-boss has not created its schema yet. */
async function queueDepths(): Promise<{ name: string; n: number }[]> {
  try {
    const rows = await db().execute<{ name: string; n: number }>(sql`select name, count(*)::int as n from pgboss.job where state in ('created', 'retry') group by name`);
    return [...rows];
  } catch {
    return [];
  }
}

export async function fleetRegistry(caller: Caller): Promise<Registry> {
  const orgId = caller.org.id;
  const registry = new Registry();
  const [counts, agents, outcomes, queues] = await Promise.all([
    fleetCounts(orgId),
    agentVersionCounts(orgId),
    db().select({ status: deployments.status, n: sql<number>`count(*)::int` }).from(deployments).where(eq(deployments.orgId, orgId)).groupBy(deployments.status),
    queueDepths(),
  ]);
  const hosts = new Gauge({ name: 'flotilla_hosts', help: 'Hosts of the organisation by status (a host may count in several: online and drifted)', labelNames: ['status'], registers: [registry] });
  for (const [key, label] of Object.entries(STATUS_LABELS)) hosts.set({ status: label }, counts[key as Exclude<keyof typeof counts, 'nixpkgsAges'>]);
  new Gauge({ name: 'flotilla_hosts_total', help: 'Active hosts of the organisation', registers: [registry] }).set(counts.total);
  new Gauge({ name: 'flotilla_agents_connected', help: 'Hosts whose agent is connected to a server now', registers: [registry] }).set(counts.online);
  const versions = new Gauge({ name: 'flotilla_agent_versions', help: 'Hosts by agent version', labelNames: ['version'], registers: [registry] });
  for (const a of agents) versions.set({ version: a.version ?? 'none' }, a.hosts);
  const outcome = new Gauge({ name: 'flotilla_deployments', help: 'Deployments of the organisation by status', labelNames: ['status'], registers: [registry] });
  for (const o of outcomes) outcome.set({ status: o.status }, o.n);
  const depth = new Gauge({ name: 'flotilla_queue_depth', help: 'Jobs waiting in the job queue, by queue (all organisations)', labelNames: ['queue'], registers: [registry] });
  for (const q of queues) depth.set({ queue: q.name }, q.n);
  return registry;
}
