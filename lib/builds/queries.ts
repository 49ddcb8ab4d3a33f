// Reading builds, always inside the caller's organisation (and, for requesters,
// only for hosts assigned to them).
import { and, arrayOverlaps, desc, eq, inArray, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { db } from '@/lib/db/client';
import { BUILD_STATUSES } from '@/lib/db/enums';
import { ZBuildProgress, type TStoredDiff } from '@/lib/db/json-types';
import { buildPaths, builds, hosts, users } from '@/lib/db/schema';
import { assertTokenReaches, reach, seesWholeFleet, type HostInReach } from '@/lib/hosts/reach';
import { diffClosures } from './closure';

export const ZBuildSummary = z.object({
  id: z.uuid(),
  host: z.string(),
  status: z.enum(BUILD_STATUSES),
  configVersion: z.number(),
  storePath: z.string().nullable(),
  closureSize: z.number().nullable(),
  error: z.string().nullable(),
  progress: ZBuildProgress.nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type TBuildSummary = z.infer<typeof ZBuildSummary>;

const columns = {
  build: builds,
  host: hosts.name,
  createdBy: users.email,
};

function present(row: { build: typeof builds.$inferSelect; host: string; createdBy: string | null }): TBuildSummary {
  const b = row.build;
  return {
    id: b.id,
    host: row.host,
    status: b.status,
    configVersion: b.configVersion,
    storePath: b.storePath,
    closureSize: b.closureSize,
    error: b.error,
    progress: b.progress ?? null,
    createdBy: row.createdBy,
    createdAt: b.createdAt.toISOString(),
    startedAt: b.startedAt?.toISOString() ?? null,
    finishedAt: b.finishedAt?.toISOString() ?? null,
  };
}

export async function listBuilds(caller: Caller, opts: { host?: HostInReach; limit?: number } = {}) {
  const where: SQL[] = [eq(builds.orgId, caller.org.id)];
  if (opts.host) where.push(eq(builds.hostId, opts.host.id));
  else if (!seesWholeFleet(caller)) throw new AppError('forbidden', 'Name one of your hosts to see its builds');
  else if (caller.token?.hostTags) where.push(arrayOverlaps(hosts.tags, caller.token.hostTags));
  const rows = await db()
    .select(columns)
    .from(builds)
    .innerJoin(hosts, eq(hosts.id, builds.hostId))
    .leftJoin(users, eq(users.id, builds.createdBy))
    .where(and(...where))
    .orderBy(desc(builds.createdAt))
    .limit(opts.limit ?? 50);
  return rows.map(present);
}

export async function getBuild(caller: Caller, id: string) {
  const [row] = await db()
    .select({ ...columns, diff: builds.diff, log: builds.log, inputs: builds.inputs })
    .from(builds)
    .innerJoin(hosts, eq(hosts.id, builds.hostId))
    .leftJoin(users, eq(users.id, builds.createdBy))
    .where(and(eq(builds.id, id), eq(builds.orgId, caller.org.id)));
  if (!row) throw new AppError('not_found', 'No such build');
  // Requesters see builds of their own machines only, tag-limited tokens those of their hosts
  // (a retired host's builds stay readable to whoever reads the whole fleet).
  if (!seesWholeFleet(caller) || caller.token?.hostTags) {
    const [host] = await db().select().from(hosts).where(eq(hosts.id, row.build.hostId));
    if (!host) throw new AppError('not_found', 'No such build');
    if (seesWholeFleet(caller)) assertTokenReaches(caller, [host]);
    else await reach(caller, host);
  }
  return { ...present(row), diff: row.diff ?? null, log: row.log, inputs: row.inputs };
}

/** Closure diff from one build to another, both readable by the caller and both built. */
export async function diffBuilds(caller: Caller, fromId: string, toId: string) {
  const [from, to] = await Promise.all([getBuild(caller, fromId), getBuild(caller, toId)]);
  for (const b of [from, to]) if (b.status !== 'succeeded') throw new AppError('conflict', `Build ${b.id} has no closure (it is ${b.status})`);
  const closure = async (id: string) =>
    (await db().select().from(buildPaths).where(eq(buildPaths.buildId, id))).map((p) => ({ path: p.storePath, narSize: p.narSize, references: [] }));
  return { from: from.id, to: to.id, ...diffClosures(await closure(from.id), await closure(to.id)) };
}

/** The stored closure diffs of several builds of the organisation in one query (builds pruned since are simply absent). */
export async function storedDiffs(caller: Caller, ids: string[]): Promise<Map<string, TStoredDiff>> {
  const orgId = caller.org.id;
  if (ids.length === 0) return new Map();
  const rows = await db()
    .select({ id: builds.id, diff: builds.diff })
    .from(builds)
    .where(and(eq(builds.orgId, orgId), inArray(builds.id, ids)));
  return new Map(rows.map((r) => [r.id, r.diff ?? null]));
}
