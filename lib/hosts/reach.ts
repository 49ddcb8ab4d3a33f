// Which hosts a caller may touch, decided in one place. A host is within reach when
// it is an active host of the caller's organisation, assigned to the caller if the
// caller's role cannot read the whole fleet (requesters), and carrying one of the token's
// tags if the caller is a tag-limited API token.
//
// Functions that act on one host take a `HostInReach`, which only this module makes,
// so a handler cannot reach a host without going through the check: the route() and
// action() wrappers resolve it (`host: 'name'`), pages call `findHost`.
import { and, arrayOverlaps, eq, isNull, type SQL, sql } from 'drizzle-orm';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { roleAllows } from '@/lib/auth/permissions';
import { db, type Tx } from '@/lib/db/client';
import { hostAssignees, hosts, type Host } from '@/lib/db/schema';

declare const inReach: unique symbol;
/** A host row that passed the reach check for the caller that holds it. */
export type HostInReach = Host & { readonly [inReach]: true };

/** Lists and fleet-wide reads: operators and viewers see the whole fleet; requesters only the hosts assigned to them. */
export function seesWholeFleet(caller: Caller) {
  return caller.permissions.has('fleet.read');
}

/**
 * Whose one-host reach is limited to assigned hosts: people whose role cannot read the
 * whole fleet (requesters). A token narrowed by its scopes is limited by the permission
 * each entry point declares and by its tag limit, not by assignments: a deploy-only CI
 * token (deployments.write without fleet.read) still deploys to the hosts of its tags.
 */
function limitedToAssignedHosts(caller: Caller) {
  return !roleAllows(caller.role, 'fleet.read');
}

/** True unless the caller is a token limited to tags that the host carries none of. */
export function tokenReaches(caller: Caller, tags: readonly string[]): boolean {
  const limit = caller.token?.hostTags;
  return !limit || tags.some((t) => limit.includes(t));
}

/** 403 for a tag-limited token when any of these hosts carries none of its tags. */
export function assertTokenReaches(caller: Caller, targets: Pick<Host, 'name' | 'tags'>[]) {
  const limit = caller.token?.hostTags;
  if (!limit) return;
  const outside = targets.filter((h) => !tokenReaches(caller, h.tags)).map((h) => h.name);
  if (outside.length) {
    throw new AppError('forbidden', `This token is limited to hosts tagged ${limit.join(', ')}; not: ${outside.join(', ')}`, { outsideTokenScope: outside });
  }
}

/**
 * Tags a tag-limited token may give a host: the new set must keep at least one of the
 * token's tags, or the token would lose the host (and could move hosts it cannot reach).
 */
export function assertTagsInReach(caller: Caller, tags: readonly string[]) {
  const limit = caller.token?.hostTags;
  if (limit && !tags.some((t) => limit.includes(t))) {
    throw new AppError('forbidden', `This token is limited to hosts tagged ${limit.join(', ')}; the host must keep one of these tags`);
  }
}

/** SQL condition over `hosts` for the hosts a caller may list (organisation, assignment, token tags). */
export function hostsInReachWhere(caller: Caller): SQL {
  const conditions: SQL[] = [eq(hosts.orgId, caller.org.id)];
  if (!seesWholeFleet(caller)) {
    conditions.push(// `${hosts}.id`, not `${hosts.id}`: in a select from one table drizzle renders the column bare.
    sql`exists (select 1 from ${hostAssignees} ha where ha.host_id = ${hosts}.id and ha.user_id = ${caller.user.id})`);
  }
  const limit = caller.token?.hostTags;
  if (limit) conditions.push(arrayOverlaps(hosts.tags, limit));
  return and(...conditions) as SQL;
}

const noSuchHost = (name: string) => new AppError('not_found', `No host named "${name}"`);

/**
 * Checks a host row loaded some other way (a build's or a request's host). A host the
 * caller may not know of is the same 404 as a host that does not exist, so requesters
 * cannot learn other people's host names; a tag-limited token learns only that the host
 * is outside its tags (403), since it may list the organisation's hosts anyway.
 */
export async function reach(caller: Caller, host: Host, tx: Tx = db()): Promise<HostInReach> {
  if (host.orgId !== caller.org.id || host.retiredAt) throw noSuchHost(host.name);
  if (limitedToAssignedHosts(caller)) {
    const [assigned] = await tx
      .select({ hostId: hostAssignees.hostId })
      .from(hostAssignees)
      .where(and(eq(hostAssignees.hostId, host.id), eq(hostAssignees.userId, caller.user.id)));
    if (!assigned) throw noSuchHost(host.name);
  }
  assertTokenReaches(caller, [host]);
  return host as HostInReach;
}

/**
 * reach() for many hosts at once (a deployment names thousands): the same checks, with one
 * query for a requester's assignments whatever the number of hosts.
 */
export async function reachAll(caller: Caller, found: Host[], tx: Tx = db()): Promise<HostInReach[]> {
  const foreign = found.find((h) => h.orgId !== caller.org.id || h.retiredAt);
  if (foreign) throw noSuchHost(foreign.name);
  if (limitedToAssignedHosts(caller) && found.length > 0) {
    const rows = await tx
      .select({ hostId: hostAssignees.hostId })
      .from(hostAssignees)
      .where(and(eq(hostAssignees.userId, caller.user.id), sql`${hostAssignees.hostId} = any(${`{${found.map((h) => h.id).join(',')}}`}::uuid[])`));
    const assigned = new Set(rows.map((r) => r.hostId));
    const unassigned = found.find((h) => !assigned.has(h.id));
    if (unassigned) throw noSuchHost(unassigned.name);
  }
  assertTokenReaches(caller, found);
  return found as HostInReach[];
}

/** The active host of that name within the caller's reach, or 404 (403 outside a token's tags). */
export async function findHost(caller: Caller, name: string, tx: Tx = db()): Promise<HostInReach> {
  const [host] = await tx
    .select()
    .from(hosts)
    .where(and(eq(hosts.orgId, caller.org.id), eq(hosts.name, name.toLowerCase()), isNull(hosts.retiredAt)));
  if (!host) throw noSuchHost(name);
  return reach(caller, host, tx);
}

/** The same host re-read and locked inside a transaction: it may have been retired since it was resolved. */
export async function lockHost(tx: Tx, host: HostInReach): Promise<HostInReach> {
  const [row] = await tx.select().from(hosts).where(and(eq(hosts.id, host.id), isNull(hosts.retiredAt))).for('update');
  if (!row) throw noSuchHost(host.name);
  return row as HostInReach;
}
