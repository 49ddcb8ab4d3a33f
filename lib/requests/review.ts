// Reviewing requests: preview the exact change and its closure diff, approve (as is or
// edited), deny with a reason, talk it over in comments, approve many at once. An
// approval writes a config version authored by the reviewer on behalf of the requester,
// then builds and deploys it with the organisation's rollout defaults.
import { and, eq } from 'drizzle-orm';
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import { authorize, type Access } from '@/lib/api/route';
import type { Caller } from '@/lib/auth/caller';
import { effectivePermissions } from '@/lib/auth/permissions';
import { requestBuild } from '@/lib/builds/request-build';
import { db } from '@/lib/db/client';
import { transaction } from '@/lib/events/outbox';
import { deploymentTargets, hosts, requestComments, requests, users } from '@/lib/db/schema';
import { createDeployment } from '@/lib/deployments/create';
import { appendVersion, latestPackages } from '@/lib/hosts/configs';
import { reach } from '@/lib/hosts/reach';
import { assertNixSyntax } from '@/lib/hosts/validate';
import { tell } from './tell';
import { assertKnownPackages } from '@/lib/packages/validate';
import { policyFor } from './policy';
import { seesAllRequests } from './queries';
import type { TApprove } from './schemas';

type RequestRow = typeof requests.$inferSelect;

/**
 * Reviewing is not a way around the permissions its effects need: previewing builds,
 * approving writes the host's config, builds and deploys. The routes and actions declare
 * these, and the operations check them again for callers that come another way.
 */
export const PREVIEW_ACCESS = ['requests.review', 'builds.run'] as const satisfies Access;
export const APPROVE_ACCESS = ['requests.review', 'hosts.write', 'builds.run', 'deployments.write'] as const satisfies Access;

/** Flotilla approving for a requester under a pre-approval policy: it may change that host's config, build and deploy. */
export function policyCaller(requester: Caller): Caller {
  return { ...requester, role: 'operator', via: 'policy', token: undefined, permissions: new Set([...effectivePermissions('operator')].filter((p) => ['hosts.write', 'builds.run', 'deployments.write', 'requests.review', 'fleet.read'].includes(p))) };
}

async function loadRequest(caller: Caller, id: string): Promise<RequestRow & { hostName: string; host: typeof hosts.$inferSelect }> {
  const [row] = await db()
    .select({ request: requests, hostName: hosts.name, host: hosts })
    .from(requests)
    .innerJoin(hosts, eq(hosts.id, requests.hostId))
    .where(and(eq(requests.id, id), eq(requests.orgId, caller.org.id)));
  if (!row) throw new AppError('not_found', 'No such request');
  return { ...row.request, hostName: row.hostName, host: row.host };
}

/** The package list the request would leave on the host, computed the same way a save does, so a preview build is reused. */
export function packagesAfter(current: string[], kind: RequestRow['kind'], pkg: string | undefined): string[] {
  if (!pkg || kind === 'change') return current;
  return kind === 'install' ? [...new Set([...current, pkg])].sort() : current.filter((p) => p !== pkg);
}

/** The exact change a request would make: package lists before and after, and a build of the result for its closure diff. */
export async function previewRequest(caller: Caller, id: string) {
  authorize(PREVIEW_ACCESS, caller);
  const r = await loadRequest(caller, id);
  const host = await reach(caller, r.host);
  const before = await latestPackages(r.hostId);
  const after = packagesAfter(before, r.kind, r.payload.package);
  if (r.kind === 'change') return { before, after, buildId: null };
  const { buildId } = await requestBuild(caller, host, { packages: after });
  await db().update(requests).set({ previewBuildId: buildId, updatedAt: new Date() }).where(eq(requests.id, id));
  return { before, after, buildId };
}

export async function approveRequest(caller: Caller, id: string, input: TApprove = {}) {
  authorize(APPROVE_ACCESS, caller);
  const r = await loadRequest(caller, id);
  await reach(caller, r.host);
  if (r.status !== 'submitted') throw new AppError('conflict', `This request is already ${r.status}`, { status: r.status });
  const pkg = input.package ?? r.payload.package;
  if (r.kind === 'install' && pkg) {
    await assertKnownPackages(caller.org.id, [pkg]);
    const policy = await policyFor(caller.org.id, pkg);
    if (policy?.rule === 'never-allowed') throw new AppError('unprocessable', `${pkg} may not be installed${policy.reason ? `: ${policy.reason}` : ''}`, { policy: 'never-allowed' });
  }
  if (r.kind === 'change' && input.module === undefined) throw new AppError('unprocessable', 'Approving a change in words needs the new module text (edit, then approve)');
  if (input.module !== undefined) await assertNixSyntax(input.module);

  const what = r.kind === 'change' ? 'the requested change' : `${r.kind === 'install' ? 'install' : 'remove'} ${pkg}`;
  // The approval, its config version, the requester's notice and the deployment commit together:
  // a process dying half-way leaves the request submitted or building, never approved and forgotten.
  return transaction(async (tx) => {
    const [locked] = await tx.select().from(requests).where(and(eq(requests.id, id), eq(requests.status, 'submitted'))).for('update');
    if (!locked) throw new AppError('conflict', 'This request was decided meanwhile');
    const [row] = await tx.select().from(hosts).where(eq(hosts.id, r.hostId));
    if (!row || row.retiredAt) throw new AppError('conflict', 'The host was retired');
    const host = await reach(caller, row, tx);
    const [requester] = await tx.select({ email: users.email }).from(users).where(eq(users.id, r.requesterId));
    const current = await latestPackages(r.hostId, tx);
    const saved = await appendVersion(tx, caller, host, {
      ...(r.kind === 'change' ? { module: input.module } : { packages: packagesAfter(current, r.kind, pkg) }),
      message: `${what[0]?.toUpperCase()}${what.slice(1)}, requested by ${requester?.email ?? 'a requester'}: ${r.reason}`.slice(0, 500),
      onBehalfOf: r.requesterId,
      action: 'host.config.request',
    });
    await tx
      .update(requests)
      .set({ status: 'approved', reviewerId: caller.user.id, decidedAt: new Date(), decisionComment: input.comment ?? null, autoApproved: caller.via === 'policy', configVersion: saved.version, payload: r.kind === 'change' ? r.payload : { package: pkg }, updatedAt: new Date() })
      .where(eq(requests.id, id));
    if (input.comment) await tx.insert(requestComments).values({ requestId: id, authorId: caller.user.id, body: input.comment });
    await recordAudit(tx, caller, { action: 'request.approve', objectType: 'request', objectId: id, after: { host: host.name, version: saved.version, ...(input.package ? { editedPackage: input.package } : {}) } });
    const version = saved.version;
    await tell(tx, caller.org.id, [r.requesterId], {
      kind: 'request.approved',
      key: `${id}:approved`,
      title: `${caller.via === 'policy' ? 'Pre-approved' : 'Approved'}: ${what} on ${r.hostName}`,
      body: input.comment ?? 'It is being built and deployed now.',
      url: `/requests/${id}`,
    }, { id, host: r.hostName, kind: r.kind, package: pkg ?? null, configVersion: version, autoApproved: caller.via === 'policy', reviewer: caller.via === 'policy' ? null : caller.user.email });
    try {
      // A savepoint: a deployment that cannot start leaves the approval standing.
      const deployment = await tx.transaction((sp) => createDeployment(caller, { hosts: [r.hostName], build: true }, 'request', sp));
      const [target] = await tx.select({ buildId: deploymentTargets.buildId }).from(deploymentTargets).where(eq(deploymentTargets.deploymentId, deployment.id));
      await tx.update(requests).set({ deploymentId: deployment.id, buildId: target?.buildId ?? null, status: 'building', updatedAt: new Date() }).where(eq(requests.id, id));
      return { id, status: 'building' as const, configVersion: version, deploymentId: deployment.id };
    } catch (error) {
      // The config version stands (it is what was approved); the requester learns the rollout could not start.
      const failure = `Approved, but the deployment could not start: ${error instanceof Error ? error.message : String(error)}`;
      await tx.update(requests).set({ status: 'failed', failure, updatedAt: new Date() }).where(eq(requests.id, id));
      await tell(tx, caller.org.id, [r.requesterId], { kind: 'request.failed', key: `${id}:failed`, title: `Could not deploy ${what} on ${r.hostName}`, body: failure, url: `/requests/${id}` }, { id, host: r.hostName, failure });
      return { id, status: 'failed' as const, configVersion: version, deploymentId: null };
    }
  });
}

export async function denyRequest(caller: Caller, id: string, comment: string) {
  const r = await loadRequest(caller, id);
  await reach(caller, r.host);
  await transaction(async (tx) => {
    const [updated] = await tx
      .update(requests)
      .set({ status: 'denied', reviewerId: caller.user.id, decidedAt: new Date(), decisionComment: comment, updatedAt: new Date() })
      .where(and(eq(requests.id, id), eq(requests.status, 'submitted')))
      .returning({ id: requests.id });
    if (!updated) throw new AppError('conflict', `This request is already ${r.status}`, { status: r.status });
    await tx.insert(requestComments).values({ requestId: id, authorId: caller.user.id, body: comment });
    await recordAudit(tx, caller, { action: 'request.deny', objectType: 'request', objectId: id, after: { comment } });
    await tell(tx, caller.org.id, [r.requesterId], { kind: 'request.denied', key: `${id}:denied`, title: `Denied: your request for ${r.hostName}`, body: comment, url: `/requests/${id}` }, { id, host: r.hostName, kind: r.kind, ...r.payload, reviewer: caller.user.email, comment });
  });
  return { id, status: 'denied' as const };
}

/** The requester takes back a request nobody decided yet. */
export async function withdrawRequest(caller: Caller, id: string) {
  const r = await loadRequest(caller, id);
  if (r.requesterId !== caller.user.id) throw new AppError(seesAllRequests(caller) ? 'forbidden' : 'not_found', seesAllRequests(caller) ? 'Only the requester may withdraw a request' : 'No such request');
  await db().transaction(async (tx) => {
    const [updated] = await tx
      .update(requests)
      .set({ status: 'withdrawn', updatedAt: new Date() })
      .where(and(eq(requests.id, id), eq(requests.status, 'submitted')))
      .returning({ id: requests.id });
    if (!updated) throw new AppError('conflict', `This request is already ${r.status}`, { status: r.status });
    await recordAudit(tx, caller, { action: 'request.withdraw', objectType: 'request', objectId: id });
  });
  return { id, status: 'withdrawn' as const };
}

/** A comment on the thread: the requester and reviewers see it; the other side is notified. */
export async function commentOnRequest(caller: Caller, id: string, body: string) {
  const r = await loadRequest(caller, id);
  const isRequester = r.requesterId === caller.user.id;
  // Someone else's request does not exist for a requester; a viewer sees it but may not write.
  if (!isRequester && !seesAllRequests(caller)) throw new AppError('not_found', 'No such request');
  if (!isRequester && !caller.permissions.has('requests.review')) throw new AppError('forbidden', 'Only the requester and reviewers may comment');
  return transaction(async (tx) => {
    const [comment] = await tx.insert(requestComments).values({ requestId: id, authorId: caller.user.id, body }).returning();
    if (!comment) throw new Error('insert returned nothing');
    await tx.update(requests).set({ updatedAt: new Date() }).where(eq(requests.id, id));
    await recordAudit(tx, caller, { action: 'request.comment', objectType: 'request', objectId: id });
    const notice = { kind: 'request.comment', key: `${id}:comment:${comment.id}`, title: `${caller.user.name || caller.user.email} commented on the request for ${r.hostName}`, body, url: `/requests/${id}` };
    // The requester's words go to whoever decided, or to every reviewer while nobody has; a reviewer's to the requester.
    const to = !isRequester ? [r.requesterId] : r.reviewerId ? [r.reviewerId] : { permission: 'requests.review' as const, except: caller.user.id };
    await tell(tx, caller.org.id, to, notice);
    return { id: comment.id };
  });
}

/** The same decision for many requests (typically one package for several hosts); each succeeds or fails on its own. */
export async function approveMany(caller: Caller, ids: string[], comment?: string) {
  const results: { id: string; status: string; error?: string }[] = [];
  for (const id of ids) {
    try {
      results.push(await approveRequest(caller, id, { comment }));
    } catch (error) {
      results.push({ id, status: 'unchanged', error: error instanceof Error ? error.message : String(error) });
    }
  }
  return { results };
}
