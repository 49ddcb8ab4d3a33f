// Bulk changes: one tag or package change applied to many hosts as one transaction
// (all or nothing), with one audit event per host.
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { db } from '@/lib/db/client';
import { hosts } from '@/lib/db/schema';
import { assertKnownPackages } from '@/lib/packages/validate';
import { appendVersion } from './configs';
import { assertTagsInReach, reach } from './reach';
import type { TBulkHosts } from './schemas';

export async function bulkChangeHosts(caller: Caller, input: TBulkHosts) {
  if (input.addPackages?.length) await assertKnownPackages(caller.org.id, input.addPackages);
  return db().transaction(async (tx) => {
    const names = [...new Set(input.hosts)];
    const rows = await tx
      .select()
      .from(hosts)
      .where(and(eq(hosts.orgId, caller.org.id), inArray(hosts.name, names), isNull(hosts.retiredAt)))
      .orderBy(hosts.name)
      .for('update');
    const missing = names.filter((n) => !rows.some((h) => h.name === n));
    if (missing.length) throw new AppError('not_found', `No hosts named ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? '…' : ''}`, { missing });

    const results: { name: string; tags: string[]; configVersion?: number }[] = [];
    for (const row of rows) {
      const host = await reach(caller, row, tx);
      const tags = [...new Set([...host.tags.filter((t) => !input.removeTags?.includes(t)), ...(input.addTags ?? [])])].sort();
      assertTagsInReach(caller, tags);
      const result: (typeof results)[number] = { name: host.name, tags };
      if (JSON.stringify(tags) !== JSON.stringify(host.tags)) {
        await tx.update(hosts).set({ tags }).where(eq(hosts.id, host.id));
        await recordAudit(tx, caller, { action: 'host.bulk.tags', objectType: 'host', objectId: host.id, before: { tags: host.tags }, after: { tags } });
      }
      if (input.addPackages?.length) {
        const saved = await appendVersion(tx, caller, host, {
          addPackages: input.addPackages,
          message: input.message ?? `Added ${input.addPackages.join(', ')} (bulk)`,
          action: 'host.bulk.packages',
        });
        result.configVersion = saved.version;
      }
      results.push(result);
    }
    return { hosts: results };
  });
}
