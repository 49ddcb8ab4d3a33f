// Starting a deployment: every named host must be an active host of the organisation
// (and within a scoped token's tags), and every store path a closure the organisation's
// cache holds, or nothing starts. The rows are written with their waves planned; the
// rollout driver (lib/deployments/driver.ts) takes it from there, woken by the outbox
// event the same transaction writes.
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { recordAudit, type AuditActor } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import { can, type Caller } from '@/lib/auth/caller';
import { requestBuild } from '@/lib/builds/request-build';
import { cachedClosure, recordClosure } from '@/lib/cache/closure';
import { storeHashOf } from '@/lib/cache/narinfo';
import { db, type Tx } from '@/lib/db/client';
import type { TRollout, TRolloutInput } from '@/lib/db/json-types';
import { builds, deployments, deploymentTargets, fleetSettings, hosts, type Host } from '@/lib/db/schema';
import { reachAll, type HostInReach } from '@/lib/hosts/reach';
import { emit, transaction } from '@/lib/events/outbox';
import type { TCreateDeployment, TWavePlan } from './schemas';
import { effectiveStrategy, outsideWindow, planWaves } from './strategy';

type Source = 'ui' | 'api' | 'request' | 'rollback';

/** The hosts a request names, checked against the organisation and the caller's token scope. */
async function namedHosts(caller: Caller, names: string[]): Promise<HostInReach[]> {
  const found = await db()
    .select()
    .from(hosts)
    // One array parameter, not one per name: PostgreSQL takes at most 65,535 parameters per statement.
    .where(and(eq(hosts.orgId, caller.org.id), sql`${hosts.name} = any(${sql.param(names)}::text[])`, isNull(hosts.retiredAt)));
  // A set, not a scan per name: 10,000 names against 10,000 rows took 0.6 s of the call.
  const known = new Set(found.map((h) => h.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) throw new AppError('unprocessable', `Unknown hosts: ${unknown.join(', ')}`, { unknownHosts: unknown });
  return reachAll(caller, found);
}

/**
 * Every given system and its whole closure must be in the organisation's cache (built
 * here or pushed by CI), or nothing starts. Returns the closures, for recordClosure.
 */
async function assertCached(orgId: string, paths: string[]) {
  const closures = new Map<string, Awaited<ReturnType<typeof cachedClosure>>['paths']>();
  const notInCache: string[] = [];
  const incomplete: string[] = [];
  for (const p of new Set(paths)) {
    const { paths: closure, missing } = await cachedClosure(orgId, p);
    if (missing.includes(storeHashOf(p))) notInCache.push(p);
    else if (missing.length) incomplete.push(`${p} (lacks ${missing.length} of its paths, e.g. ${missing[0]})`);
    else closures.set(p, closure);
  }
  if (notInCache.length) throw new AppError('unprocessable', `Not in this fleet's binary cache (build or push them first): ${notInCache.join(', ')}`, { notInCache });
  if (incomplete.length) throw new AppError('unprocessable', `Only part of the closure is in this fleet's binary cache (push it again): ${incomplete.join(', ')}`, { incomplete });
  return closures;
}

async function orgStrategy(orgId: string, requested: TRolloutInput | undefined): Promise<TRollout> {
  const [settings] = await db().select({ defaults: fleetSettings.rolloutDefaults }).from(fleetSettings).where(eq(fleetSettings.orgId, orgId));
  try {
    return effectiveStrategy(settings?.defaults, requested);
  } catch (error) {
    throw new AppError('invalid_request', `The rollout strategy is not valid: ${(error as Error).message}`);
  }
}

function requestedNames(input: TCreateDeployment): string[] {
  return 'agents' in input ? Object.keys(input.agents) : [...new Set(input.hosts)];
}

function planView(found: Host[], strategy: TRollout): TWavePlan {
  const { limits, waves } = planWaves(found, strategy);
  const now = new Date();
  return {
    strategy,
    limits,
    waves: waves
      .map((hs, wave) => ({
        wave,
        canary: wave === 0,
        hosts: hs.map((h) => ({ name: h.name, online: h.online, window: outsideWindow(h.tags, strategy.maintenanceWindows, now) })),
      }))
      .filter((w) => w.hosts.length > 0),
  };
}

/** What a deployment would do, without starting it: the strategy in force and each wave's hosts. */
export async function previewDeployment(caller: Caller, input: TCreateDeployment): Promise<TWavePlan> {
  const found = await namedHosts(caller, requestedNames(input));
  if ('agents' in input) await assertCached(caller.org.id, Object.values(input.agents));
  return planView(found, await orgStrategy(caller.org.id, input.rollout));
}

/** Each host's system to deploy: given (deploy.json), built now, or its newest good build. */
async function resolveSystems(tx: Tx, caller: Caller, input: TCreateDeployment, found: HostInReach[]) {
  const systems: Systems = new Map();
  if ('agents' in input) {
    const closures = await assertCached(caller.org.id, Object.values(input.agents));
    // What each host may then fetch from the cache (lib/cache/serve.ts).
    for (const [root, closure] of closures) await recordClosure(tx, caller.org.id, root, closure);
    for (const h of found) systems.set(h.id, { storePath: input.agents[h.name] as string, buildId: null });
    return systems;
  }
  if (input.build) {
    for (const h of found) {
      const { buildId } = await requestBuild(caller, h, {}, tx);
      const [b] = await tx.select({ status: builds.status, storePath: builds.storePath }).from(builds).where(eq(builds.id, buildId));
      systems.set(h.id, { storePath: b?.status === 'succeeded' ? b.storePath : null, buildId });
    }
    return systems;
  }
  const unbuilt: string[] = [];
  // Each host's newest good build, in one query whatever the number of hosts.
  const newest = await tx
    .selectDistinctOn([builds.hostId], { hostId: builds.hostId, id: builds.id, storePath: builds.storePath })
    .from(builds)
    .where(and(sql`${builds.hostId} = any(${`{${found.map((h) => h.id).join(',')}}`}::uuid[])`, eq(builds.status, 'succeeded'), eq(builds.preview, false), isNull(builds.prunedAt)))
    .orderBy(builds.hostId, desc(builds.finishedAt));
  const byHost = new Map(newest.map((b) => [b.hostId, b]));
  for (const h of found) {
    const b = byHost.get(h.id);
    if (b?.storePath) systems.set(h.id, { storePath: b.storePath, buildId: b.id });
    else unbuilt.push(h.name);
  }
  if (unbuilt.length) throw new AppError('unprocessable', `No successful build to deploy for: ${unbuilt.join(', ')} (send build: true)`, { unbuilt });
  return systems;
}

/**
 * Starts a deployment: its builds (when asked), its rows and the event that wakes the
 * rollout engine in one transaction — the caller's when given (an approved request
 * commits its approval and its deployment together), else its own.
 */
export async function createDeployment(caller: Caller, input: TCreateDeployment, source: Source = 'api', inTx?: Tx) {
  if ('hosts' in input && input.build && !can(caller, 'builds.run')) {
    throw new AppError('forbidden', 'Building before deploying needs the "builds.run" permission; deploy built systems with build: false');
  }
  const found = await namedHosts(caller, requestedNames(input));
  const strategy = await orgStrategy(caller.org.id, input.rollout);
  const write = async (tx: Tx) => {
    const systems = await resolveSystems(tx, caller, input, found);
    const owner = { orgId: caller.org.id, userId: caller.user.id, actor: caller };
    const created = await writeDeployment(tx, owner, found, strategy, systems, source);
    await emit(tx, { type: 'deployment.changed', deploymentId: created.id });
    return created;
  };
  return inTx ? write(inTx) : transaction(write);
}

export type Systems = Map<string, { storePath: string | null; buildId: string | null }>;
/** Whose deployment it is and who the audit names: a person, or the rollout itself for an automatic rollback. */
export type Owner = { orgId: string; userId: string | null; actor: AuditActor };

/** The deployment row and its targets, wave by wave, in the caller's transaction; the driver starts it. */
export async function writeDeployment(
  tx: Tx,
  owner: Owner,
  found: Pick<Host, 'id' | 'name' | 'tags' | 'online'>[],
  strategy: TRollout,
  systems: Systems,
  source: Source,
  opts: { rollbackOf?: string; reason?: string } = {},
) {
  const { waves } = planWaves(found, strategy);
  const [deployment] = await tx
    .insert(deployments)
    .values({ orgId: owner.orgId, status: 'pending', strategy, source, createdBy: owner.userId, rollbackOf: opts.rollbackOf ?? null, reason: opts.reason ?? null })
    .returning();
  if (!deployment) throw new Error('insert returned nothing');
  const planned = waves.flatMap((hs, wave) => hs.map((h) => ({ h, wave, system: systems.get(h.id) })));
  // One statement of five array parameters for any number of targets: a row of parameters
  // per target hit PostgreSQL's 65,535 per statement at 13,108 hosts, and drizzle took a
  // second to build the SQL of 10,000 rows.
  const t = deploymentTargets;
  const targets = await tx.execute<{ id: string; hostId: string }>(sql`
    insert into ${t} (${sql.identifier(t.deploymentId.name)}, ${sql.identifier(t.hostId.name)}, ${sql.identifier(t.wave.name)}, ${sql.identifier(t.storePath.name)}, ${sql.identifier(t.buildId.name)})
    select ${deployment.id}, * from unnest(
      ${sql.param(planned.map((p) => p.h.id))}::uuid[], ${sql.param(planned.map((p) => p.wave))}::int[],
      ${sql.param(planned.map((p) => p.system?.storePath ?? null))}::text[], ${sql.param(planned.map((p) => p.system?.buildId ?? null))}::uuid[])
    returning ${t.id} as id, ${t.hostId} as "hostId"`);
  await recordAudit(tx, owner.actor, {
    action: opts.rollbackOf ? 'deployment.rollback' : 'deployment.create',
    objectType: 'deployment',
    objectId: deployment.id,
    after: { hosts: found.map((h) => h.name), strategy, ...(opts.rollbackOf ? { rollbackOf: opts.rollbackOf } : {}) },
  });
  const names = new Map(found.map((h) => [h.id, h.name]));
  return {
    id: deployment.id,
    agents: Object.fromEntries(targets.map((target) => [names.get(target.hostId) as string, { id: target.id }])),
  };
}
