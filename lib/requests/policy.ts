// Package policies per organisation: pre-approved packages skip review, never-allowed
// ones are refused with the policy's reason. Only installs are governed: removing a
// package a person no longer wants is always reviewable.
import { and, asc, eq } from 'drizzle-orm';
import { recordAudit } from '@/lib/audit/record';
import type { Caller } from '@/lib/auth/caller';
import { db } from '@/lib/db/client';
import { packagePolicies } from '@/lib/db/schema';
import type { TPolicy } from './schemas';

export async function listPolicies(caller: Caller): Promise<TPolicy[]> {
  const orgId = caller.org.id;
  const rows = await db().select().from(packagePolicies).where(eq(packagePolicies.orgId, orgId)).orderBy(asc(packagePolicies.package));
  return rows.map((r) => ({ package: r.package, rule: r.rule, reason: r.reason }));
}

export async function policyFor(orgId: string, pkg: string): Promise<TPolicy | null> {
  const [row] = await db()
    .select()
    .from(packagePolicies)
    .where(and(eq(packagePolicies.orgId, orgId), eq(packagePolicies.package, pkg)));
  return row ? { package: row.package, rule: row.rule, reason: row.reason } : null;
}

/** Replaces the organisation's policies with this list, in one transaction, audited with before and after. */
export async function setPolicies(caller: Caller, policies: TPolicy[]) {
  const unique = [...new Map(policies.map((p) => [p.package, p])).values()];
  return db().transaction(async (tx) => {
    const before = await tx.select().from(packagePolicies).where(eq(packagePolicies.orgId, caller.org.id));
    await tx.delete(packagePolicies).where(eq(packagePolicies.orgId, caller.org.id));
    if (unique.length) {
      await tx.insert(packagePolicies).values(unique.map((p) => ({ orgId: caller.org.id, package: p.package, rule: p.rule, reason: p.reason, createdBy: caller.user.id })));
    }
    await recordAudit(tx, caller, {
      action: 'requests.policies',
      objectType: 'organization',
      objectId: caller.org.id,
      before: before.map((p) => ({ package: p.package, rule: p.rule })),
      after: unique.map((p) => ({ package: p.package, rule: p.rule })),
    });
    return { policies: unique };
  });
}
