// Filing a request: only for a host assigned to the requester (anything else is a 403
// that is audited and creates nothing), only for packages the index knows and the
// organisation's policy allows. A pre-approved package is approved at once.
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { db } from '@/lib/db/client';
import { transaction } from '@/lib/events/outbox';
import { and, eq, isNull } from 'drizzle-orm';
import { hosts, requests } from '@/lib/db/schema';
import { latestPackages } from '@/lib/hosts/configs';
import { findHost, type HostInReach } from '@/lib/hosts/reach';
import { tell } from './tell';
import { assertKnownPackages } from '@/lib/packages/validate';
import { assertConfigManaged } from '@/lib/hosts/deploy-only';
import { policyFor } from './policy';
import { approveRequest, policyCaller } from './review';
import type { TCreateRequest } from './schemas';

async function hostForRequest(caller: Caller, name: string): Promise<HostInReach> {
  try {
    return await findHost(caller, name);
  } catch (error) {
    // The caller gets the same 404 as for a host that does not exist (no enumeration), but
    // asking for someone else's machine is worth a line in the audit log, though nothing changes.
    if (error instanceof AppError && error.code === 'not_found') {
      const [exists] = await db()
        .select({ id: hosts.id })
        .from(hosts)
        .where(and(eq(hosts.orgId, caller.org.id), eq(hosts.name, name.toLowerCase()), isNull(hosts.retiredAt)));
      if (exists) await db().transaction((tx) => recordAudit(tx, caller, { action: 'request.refused', objectType: 'host', objectId: exists.id, after: { host: name, reason: 'host not assigned to the requester' } }));
    }
    throw error;
  }
}

export async function submitRequest(caller: Caller, input: TCreateRequest) {
  const host = await hostForRequest(caller, input.host);
  assertConfigManaged(host, 'change through a request (ask IT, who change it where it is built)');
  let autoApprove = false;
  if (input.kind === 'install') {
    await assertKnownPackages(caller.org.id, [input.package]);
    const policy = await policyFor(caller.org.id, input.package);
    if (policy?.rule === 'never-allowed') {
      throw new AppError('unprocessable', `${input.package} may not be installed${policy.reason ? `: ${policy.reason}` : ''}`, { policy: 'never-allowed', reason: policy.reason });
    }
    if ((await latestPackages(host.id)).includes(input.package)) throw new AppError('conflict', `${input.package} is already in ${host.name}'s configuration`);
    autoApprove = policy?.rule === 'pre-approved';
  }
  if (input.kind === 'remove' && !(await latestPackages(host.id)).includes(input.package)) {
    throw new AppError('unprocessable', `${input.package} is not among the packages Flotilla installs on ${host.name}`);
  }
  const payload = input.kind === 'change' ? { text: input.text } : { package: input.package };
  const what = input.kind === 'change' ? 'a change' : `${input.kind === 'install' ? 'to install' : 'to remove'} ${input.package}`;
  const created = await transaction(async (tx) => {
    const [row] = await tx
      .insert(requests)
      .values({ orgId: caller.org.id, hostId: host.id, requesterId: caller.user.id, kind: input.kind, payload, reason: input.reason })
      .returning();
    if (!row) throw new Error('insert returned nothing');
    await recordAudit(tx, caller, { action: 'request.create', objectType: 'request', objectId: row.id, after: { host: host.name, kind: input.kind, ...payload, reason: input.reason } });
    if (!autoApprove) {
      await tell(tx, caller.org.id, { permission: 'requests.review', except: caller.user.id }, {
        kind: 'request.submitted',
        key: `${row.id}:submitted`,
        title: `${caller.user.name || caller.user.email} asks ${what} on ${host.name}`,
        body: input.reason,
        url: `/requests/${row.id}`,
      }, { id: row.id, host: host.name, kind: input.kind, ...payload, reason: input.reason, requester: caller.user.email });
    }
    return row;
  });
  // A pre-approved request that this process did not get to approve (it died just now) stays submitted: a reviewer sees it.
  if (autoApprove) await approveRequest(policyCaller(caller), created.id, { comment: 'Pre-approved by the organisation’s package policy' });
  return { id: created.id, autoApproved: autoApprove };
}
