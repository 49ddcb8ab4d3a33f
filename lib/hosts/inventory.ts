// The host inventory: create, list (server-side search, filters, sorting, paging),
// rename and re-tag, assign people, retire. Every change is audited.
import { and, asc, eq, ilike, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { isUniqueViolation } from '@/lib/db/errors';
import { db, type Tx } from '@/lib/db/client';
import { hostAssignees, hostConfigs, hosts, memberships, users, type Host } from '@/lib/db/schema';
import { announceCredentialChange } from '@/lib/agents/host-events';
import { issueEnrollToken, revokeEnrollTokens } from './enroll-tokens';
import { HOST_STATUS_SQL, STORE_FREE_SQL } from './status-sql';
import { defaultHostModule } from './generated-module';
import type { TCreateHost, THostListQuery, THostSummary, TUpdateHost } from './schemas';
import { assertNixSyntax } from './validate';
import { assertTagsInReach, hostsInReachWhere, lockHost, type HostInReach } from './reach';

async function memberIdsByEmail(tx: Tx, orgId: string, emails: string[]): Promise<string[]> {
  if (emails.length === 0) return [];
  const rows = await tx
    .select({ id: users.id, email: users.email })
    .from(users)
    .innerJoin(memberships, and(eq(memberships.userId, users.id), eq(memberships.orgId, orgId)))
    .where(inArray(users.email, emails));
  const missing = emails.filter((e) => !rows.some((r) => r.email === e));
  if (missing.length) throw new AppError('unprocessable', `Not members of this organisation: ${missing.join(', ')}`, { assignees: missing });
  return rows.map((r) => r.id);
}

async function setAssignees(tx: Tx, hostId: string, userIds: string[]) {
  await tx.delete(hostAssignees).where(eq(hostAssignees.hostId, hostId));
  if (userIds.length) await tx.insert(hostAssignees).values(userIds.map((userId) => ({ hostId, userId })));
}

export async function createHost(caller: Caller, input: TCreateHost) {
  assertTagsInReach(caller, input.tags ?? []);
  const module = input.module ?? defaultHostModule(input.name);
  if (!input.deployOnly) await assertNixSyntax(module);
  try {
    return await db().transaction(async (tx) => {
      const assigneeIds = await memberIdsByEmail(tx, caller.org.id, input.assignees ?? []);
      const [host] = await tx
        .insert(hosts)
        .values({ orgId: caller.org.id, name: input.name, tags: input.tags ?? [], deployOnly: input.deployOnly ?? false })
        .returning();
      if (!host) throw new Error('insert returned nothing');
      await setAssignees(tx, host.id, assigneeIds);
      if (!host.deployOnly) await tx.insert(hostConfigs).values({ hostId: host.id, version: 1, module, settings: { packages: [] }, authorId: caller.user.id, message: 'Host created' });
      const enroll = await issueEnrollToken(tx, caller, host);
      await recordAudit(tx, caller, {
        action: 'host.create',
        objectType: 'host',
        objectId: host.id,
        after: { name: host.name, tags: host.tags, assignees: input.assignees ?? [], ...(host.deployOnly ? { deployOnly: true } : {}) },
      });
      return { host, enrollToken: enroll.token, enrollTokenExpiresAt: enroll.expiresAt };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('conflict', `A host named "${input.name}" already exists`);
    throw error;
  }
}

export async function updateHost(caller: Caller, inReach: HostInReach, input: TUpdateHost) {
  if (input.tags) assertTagsInReach(caller, input.tags);
  try {
    return await db().transaction(async (tx) => {
      const host = await lockHost(tx, inReach);
      const before = { name: host.name, tags: host.tags, assignees: await assigneeEmails(tx, host.id) };
      const [updated] = await tx
        .update(hosts)
        .set({ name: input.name ?? host.name, tags: input.tags ?? host.tags })
        .where(eq(hosts.id, host.id))
        .returning();
      if (input.assignees) await setAssignees(tx, host.id, await memberIdsByEmail(tx, caller.org.id, input.assignees));
      const after = { name: updated?.name, tags: updated?.tags, assignees: input.assignees ?? before.assignees };
      await recordAudit(tx, caller, { action: input.name && input.name !== host.name ? 'host.rename' : 'host.update', objectType: 'host', objectId: host.id, before, after });
      return updated as Host;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('conflict', `A host named "${input.name}" already exists`);
    throw error;
  }
}

/** Retiring keeps the host's history (configs, builds, audit) but frees its name and ends its credentials. */
export async function retireHost(caller: Caller, inReach: HostInReach) {
  await db().transaction(async (tx) => {
    const host = await lockHost(tx, inReach);
    await tx.update(hosts).set({ retiredAt: new Date(), credentialHash: null, online: false }).where(eq(hosts.id, host.id));
    await revokeEnrollTokens(tx, host.id);
    await recordAudit(tx, caller, { action: 'host.retire', objectType: 'host', objectId: host.id, before: { name: host.name, tags: host.tags } });
    // Delivered at the commit: whichever server process holds its agent's socket closes it.
    await announceCredentialChange(tx, host.id);
  });
}

export async function assigneeEmails(tx: Tx, hostId: string): Promise<string[]> {
  const rows = await tx
    .select({ email: users.email })
    .from(hostAssignees)
    .innerJoin(users, eq(users.id, hostAssignees.userId))
    .where(eq(hostAssignees.hostId, hostId))
    .orderBy(asc(users.email));
  return rows.map((r) => r.email);
}

export function hostStatus(host: { online: boolean; lastSeen: Date | string | null }): THostSummary['status'] {
  if (host.online) return 'online';
  return host.lastSeen ? 'offline' : 'never-seen';
}

// The outer host is named with its table: a select from one table renders `${hosts.id}` as a bare "id",
// which inside these subqueries would be the config's or the build's own id.
const latestVersion = sql<number | null>`(select max(hc.version) from ${hostConfigs} hc where hc.host_id = ${hosts}.id)`;
const lastBuildStatus = sql<THostSummary['lastBuild']>`(select b.status from builds b where b.host_id = ${hosts}.id and not b.preview order by b.created_at desc limit 1)`;

export function summarize(host: Host, configVersion: number | null, lastBuild: THostSummary['lastBuild'] = null): THostSummary {
  return {
    name: host.name,
    tags: host.tags,
    online: host.online,
    lastSeen: host.lastSeen?.toISOString() ?? null,
    currentSystem: host.currentSystem,
    desiredSystem: host.desiredSystem,
    status: hostStatus(host),
    drifted: host.desiredSystem !== null && host.desiredSystem !== host.currentSystem,
    needsReboot: host.needsReboot,
    deployOnly: host.deployOnly,
    enrolled: host.enrolledAt !== null,
    configVersion,
    lastBuild,
    agentVersion: host.agentVersion,
    nixosVersion: host.nixosVersion,
    lastDeployPhase: host.lastDeployPhase,
    ...healthFacts(host.lastHealth),
  };
}

/** The parts of the last heartbeat the host list shows, read defensively (it is JSON from the agent). */
function healthFacts(health: unknown): { storeFreeBytes: number | null; failedUnits: string[] } {
  const h = (health ?? {}) as { storeFreeBytes?: unknown; failedUnits?: unknown };
  return {
    storeFreeBytes: typeof h.storeFreeBytes === 'number' ? h.storeFreeBytes : null,
    failedUnits: Array.isArray(h.failedUnits) ? h.failedUnits.filter((u): u is string => typeof u === 'string') : [],
  };
}

export async function listHosts(caller: Caller, query: THostListQuery) {
  const where: SQL[] = [hostsInReachWhere(caller), isNull(hosts.retiredAt)];
  if (query.q) where.push(ilike(hosts.name, `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
  if (query.tag.length) where.push(sql`${hosts.tags} @> ${sql.param(query.tag)}::text[]`);
  if (query.status) where.push(HOST_STATUS_SQL[query.status]);
  if (query.agent) where.push(query.agent === 'none' ? isNull(hosts.agentVersion) : eq(hosts.agentVersion, query.agent));

  // Connected hosts are being seen now, whatever their row's last write.
  const lastSeen = sql`case when ${hosts.online} then 'infinity'::timestamptz else ${hosts.lastSeen} end`;
  const column = { name: hosts.name, lastSeen, createdAt: hosts.createdAt, agentVersion: hosts.agentVersion, storeFree: STORE_FREE_SQL }[query.sort];
  const order = query.dir === 'asc' ? [asc(column), asc(hosts.name)] : [sql`${column} desc nulls last`, asc(hosts.name)];
  const [rows, [count]] = await Promise.all([
    db()
      .select({ host: hosts, version: latestVersion, lastBuild: lastBuildStatus })
      .from(hosts)
      .where(and(...where))
      .orderBy(...order)
      .limit(query.pageSize)
      .offset((query.page - 1) * query.pageSize),
    db()
      .select({ n: sql<number>`count(*)::int` })
      .from(hosts)
      .where(and(...where)),
  ]);
  return { hosts: rows.map((r) => summarize(r.host, r.version, r.lastBuild)), total: count?.n ?? 0, page: query.page, pageSize: query.pageSize };
}

/** Every tag in use in the organisation, for filters and suggestions. */
export async function listTags(caller: Caller): Promise<string[]> {
  const orgId = caller.org.id;
  const rows = await db().execute<{ tag: string }>(
    sql`select distinct unnest(${hosts.tags}) as tag from ${hosts} where ${hosts.orgId} = ${orgId} and ${hosts.retiredAt} is null order by 1`,
  );
  return [...rows].map((r) => r.tag);
}

