// Reading requests. Reviewers and viewers see the organisation's requests; a requester
// sees only their own, and only their own machines.
import { and, asc, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { typedEventStream } from '@/lib/api/sse';
import { ZRequestStream } from '@/lib/api/streams';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { db } from '@/lib/db/client';
import { deployments, deploymentTargets, hostAssignees, hosts, requestComments, requests, users } from '@/lib/db/schema';
import { isFinalRequest, OPEN_REQUEST_STATUSES, UNDER_WAY_REQUEST_STATUSES } from '@/lib/db/statuses';
import { latestPackages } from '@/lib/hosts/configs';
import { hostStatus } from '@/lib/hosts/inventory';
import { installedPackages } from '@/lib/packages/installed';
import type { TRequestListQuery, TRequestView } from './schemas';

/** May this caller see every request of the organisation, or only their own? */
export function seesAllRequests(caller: Caller) {
  return caller.permissions.has('requests.review') || caller.permissions.has('fleet.read');
}

const reviewer = alias(users, 'reviewer');

function select() {
  return db()
    .select({ request: requests, host: hosts.name, requester: { email: users.email, name: users.name }, reviewer: reviewer.email })
    .from(requests)
    .innerJoin(hosts, eq(hosts.id, requests.hostId))
    .innerJoin(users, eq(users.id, requests.requesterId))
    .leftJoin(reviewer, eq(reviewer.id, requests.reviewerId));
}

type Row = Awaited<ReturnType<ReturnType<typeof select>['where']>>[number];

function present(row: Row, comments: TRequestView['comments'] = []): TRequestView {
  const r = row.request;
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return {
    id: r.id,
    host: row.host,
    kind: r.kind,
    package: r.payload.package ?? null,
    text: r.payload.text ?? null,
    reason: r.reason,
    status: r.status,
    requester: row.requester,
    reviewer: row.reviewer,
    decidedAt: iso(r.decidedAt),
    decisionComment: r.decisionComment,
    autoApproved: r.autoApproved,
    configVersion: r.configVersion,
    buildId: r.buildId,
    deploymentId: r.deploymentId,
    previewBuildId: r.previewBuildId,
    failure: r.failure,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    comments,
  };
}

export async function listRequests(caller: Caller, query: TRequestListQuery): Promise<TRequestView[]> {
  const where: SQL[] = [eq(requests.orgId, caller.org.id)];
  if (!seesAllRequests(caller) || query.mine === 'true') where.push(eq(requests.requesterId, caller.user.id));
  if (query.status === 'open') where.push(inArray(requests.status, OPEN_REQUEST_STATUSES));
  else if (query.status !== 'all') where.push(eq(requests.status, query.status));
  if (query.host) where.push(eq(hosts.name, query.host));
  if (query.package) where.push(sql`${requests.payload}->>'package' = ${query.package}`);
  const rows = await select()
    .where(and(...where))
    .orderBy(query.status === 'submitted' ? asc(requests.createdAt) : desc(requests.createdAt))
    .limit(query.limit);
  return rows.map((row) => present(row));
}

export async function getRequest(caller: Caller, id: string): Promise<TRequestView & { progress: { deployment: string | null; phase: string | null } }> {
  const [row] = await select().where(and(eq(requests.id, id), eq(requests.orgId, caller.org.id)));
  // Someone else's request does not exist, as far as a requester can tell.
  if (!row || (!seesAllRequests(caller) && row.request.requesterId !== caller.user.id)) throw new AppError('not_found', 'No such request');
  const comments = await db()
    .select({ id: requestComments.id, author: users.email, body: requestComments.body, createdAt: requestComments.createdAt })
    .from(requestComments)
    .leftJoin(users, eq(users.id, requestComments.authorId))
    .where(eq(requestComments.requestId, id))
    .orderBy(asc(requestComments.createdAt));
  let progress = { deployment: null as string | null, phase: null as string | null };
  if (row.request.deploymentId) {
    const [t] = await db()
      .select({ status: deployments.status, phase: deploymentTargets.phase })
      .from(deployments)
      .leftJoin(deploymentTargets, and(eq(deploymentTargets.deploymentId, deployments.id), eq(deploymentTargets.hostId, row.request.hostId)))
      .where(eq(deployments.id, row.request.deploymentId));
    progress = { deployment: t?.status ?? null, phase: t?.phase ?? null };
  }
  return { ...present(row, comments.map((c) => ({ ...c, createdAt: c.createdAt.toISOString() }))), progress };
}

/** The request as it changes, until it is final (then one last event). */
export function requestEvents(caller: Caller, id: string, signal: AbortSignal) {
  let last = '';
  return typedEventStream(ZRequestStream, async () => {
    const view = await getRequest(caller, id);
    const snapshot = JSON.stringify(view);
    const done = isFinalRequest(view.status);
    if (snapshot === last) return { events: [], done };
    last = snapshot;
    return { events: [{ event: 'request' as const, data: view }], done };
  }, signal);
}

/** "My machines": the caller's assigned hosts, their state and what is installed on them. */
export async function myMachines(caller: Caller) {
  const rows = await db()
    .select({ host: hosts })
    .from(hosts)
    .innerJoin(hostAssignees, and(eq(hostAssignees.hostId, hosts.id), eq(hostAssignees.userId, caller.user.id)))
    .where(and(eq(hosts.orgId, caller.org.id), sql`${hosts.retiredAt} is null`))
    .orderBy(asc(hosts.name));
  const ids = rows.map((r) => r.host.id);
  const open = ids.length
    ? await db()
        .select({ hostId: requests.hostId, n: sql<number>`count(*)::int` })
        .from(requests)
        .where(and(eq(requests.orgId, caller.org.id), inArray(requests.status, UNDER_WAY_REQUEST_STATUSES), inArray(requests.hostId, ids)))
        .groupBy(requests.hostId)
    : [];
  return Promise.all(
    rows.map(async ({ host }) => {
      const pending = open.find((o) => o.hostId === host.id)?.n ?? 0;
      const drifted = host.desiredSystem !== null && host.desiredSystem !== host.currentSystem;
      const state = pending > 0 || drifted ? 'update-pending' : host.needsReboot ? 'needs-reboot' : host.currentSystem ? 'up-to-date' : 'not-deployed';
      return {
        name: host.name,
        presence: hostStatus(host),
        state,
        lastSeen: host.lastSeen?.toISOString() ?? null,
        currentSystem: host.currentSystem,
        packages: host.currentSystem ? await installedPackages(caller.org.id, host.currentSystem) : [],
        /** What Flotilla's config installs, so a request can remove it. */
        removable: await latestPackages(host.id),
        /** Its systems come from CI: nothing to request here (lib/hosts/deploy-only.ts). */
        deployOnly: host.deployOnly,
      };
    }),
  );
}

/** Request numbers for managers: open, decided, approval rate, median times to a decision and to live. */
export async function requestStats(caller: Caller) {
  const [row] = await db()
    .select({
      open: sql<number>`count(*) filter (where ${inArray(requests.status, OPEN_REQUEST_STATUSES)})::int`,
      decided: sql<number>`count(*) filter (where ${requests.decidedAt} is not null)::int`,
      approved: sql<number>`count(*) filter (where ${requests.decidedAt} is not null and ${requests.status} <> 'denied')::int`,
      denied: sql<number>`count(*) filter (where ${requests.status} = 'denied')::int`,
      medianDecision: sql<number | null>`percentile_cont(0.5) within group (order by extract(epoch from ${requests.decidedAt} - ${requests.createdAt})) filter (where ${requests.decidedAt} is not null)`,
      medianLive: sql<number | null>`percentile_cont(0.5) within group (order by extract(epoch from ${requests.updatedAt} - ${requests.createdAt})) filter (where ${requests.status} = 'live')`,
    })
    .from(requests)
    .where(eq(requests.orgId, caller.org.id));
  const byStatus = await db()
    .select({ status: requests.status, n: sql<number>`count(*)::int` })
    .from(requests)
    .where(eq(requests.orgId, caller.org.id))
    .groupBy(requests.status);
  const decided = row?.decided ?? 0;
  return {
    open: row?.open ?? 0,
    decided,
    approved: row?.approved ?? 0,
    denied: row?.denied ?? 0,
    approvalRate: decided ? (row?.approved ?? 0) / decided : null,
    medianSecondsToDecision: row?.medianDecision === null || row?.medianDecision === undefined ? null : Number(row.medianDecision),
    medianSecondsToLive: row?.medianLive === null || row?.medianLive === undefined ? null : Number(row.medianLive),
    byStatus: Object.fromEntries(byStatus.map((b) => [b.status, b.n])),
  };
}
