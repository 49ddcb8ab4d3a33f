'use server';

import { z } from 'zod';
import { revokeHostCredential } from '@/lib/agents/credentials';
import { action } from '@/lib/api/action';
import { db } from '@/lib/db/client';
import { bulkChangeHosts } from '@/lib/hosts/bulk';
import { revertConfig, saveConfig } from '@/lib/hosts/configs';
import { issueEnrollToken, revokeEnrollTokens } from '@/lib/hosts/enroll-tokens';
import { ZEmailList, ZTagList } from '@/lib/hosts/form-schemas';
import { createHost, retireHost, updateHost } from '@/lib/hosts/inventory';
import { deleteFilter, saveFilter, ZSaveFilter } from '@/lib/hosts/saved-filters';
import { ZBulkHosts, ZHostName, ZModuleText, ZSaveConfig } from '@/lib/hosts/schemas';
import { recordAudit } from '@/lib/audit/record';

const ZHostRef = z.string().min(1).max(63);

export const createHostAction = action(
  {
    access: 'hosts.write',
    input: z.strictObject({
      name: ZHostName,
      tags: ZTagList.optional(),
      assignees: ZEmailList.optional(),
      module: ZModuleText.optional(),
      // A checkbox: "on" when ticked, absent otherwise.
      deployOnly: z
        .enum(['on'])
        .optional()
        .transform((v) => v === 'on'),
    }),
    revalidate: ['/hosts', '/'],
  },
  async ({ caller, input }) => {
    const { host, enrollToken, enrollTokenExpiresAt } = await createHost(caller, input);
    return { name: host.name, enrollToken, enrollTokenExpiresAt, deployOnly: host.deployOnly };
  },
);

export const updateHostAction = action(
  {
    access: 'hosts.write',
    input: z.strictObject({ host: ZHostRef, name: ZHostName.optional(), tags: ZTagList.optional(), assignees: ZEmailList.optional() }),
    host: 'host',
    revalidate: ['/hosts'],
  },
  async ({ caller, host, input }) => {
    const { host: _name, ...change } = input;
    const updated = await updateHost(caller, host, change);
    return { name: updated.name };
  },
);

export const retireHostAction = action({ access: 'hosts.write', input: z.strictObject({ host: ZHostRef }), host: 'host', revalidate: ['/hosts', '/'] }, async ({ caller, host }) => {
  await retireHost(caller, host);
  return { name: host.name };
});

export const issueEnrollTokenAction = action({ access: 'hosts.write', input: z.strictObject({ host: ZHostRef }), host: 'host' }, async ({ caller, host }) =>
  db().transaction(async (tx) => issueEnrollToken(tx, caller, host)),
);

export const revokeEnrollTokenAction = action({ access: 'hosts.write', input: z.strictObject({ host: ZHostRef }), host: 'host' }, async ({ caller, host }) =>
  db().transaction(async (tx) => {
    const revoked = await revokeEnrollTokens(tx, host.id);
    if (revoked.length) await recordAudit(tx, caller, { action: 'host.enroll_token.revoke', objectType: 'host', objectId: host.id });
    return { revoked: revoked.length };
  }),
);

export const saveConfigAction = action({ access: 'hosts.write', input: ZSaveConfig.extend({ host: ZHostRef }), host: 'host' }, async ({ caller, host, input }) => {
  const { host: _name, ...change } = input;
  return saveConfig(caller, host, change);
});

export const revertConfigAction = action(
  { access: 'hosts.write', input: z.strictObject({ host: ZHostRef, toVersion: z.coerce.number().int().min(1), baseVersion: z.coerce.number().int().min(1) }), host: 'host' },
  async ({ caller, host, input }) => revertConfig(caller, host, input.toVersion, input.baseVersion),
);

export const bulkHostsAction = action({ access: 'hosts.write', input: ZBulkHosts, revalidate: ['/hosts'] }, async ({ caller, input }) => bulkChangeHosts(caller, input));

export const revokeCredentialAction = action({ access: 'hosts.write', input: z.strictObject({ host: ZHostRef }), host: 'host', revalidate: ['/hosts'] }, async ({ caller, host }) => {
  await revokeHostCredential(caller, host);
  return { name: host.name };
});

// Saved filters are a person's own view of the list: anyone who may read the fleet keeps their own.
export const saveHostFilterAction = action({ access: 'fleet.read', input: ZSaveFilter, revalidate: ['/hosts'] }, async ({ caller, input }) => saveFilter(caller, input));

export const deleteHostFilterAction = action({ access: 'fleet.read', input: z.strictObject({ id: z.uuid() }), revalidate: ['/hosts'] }, async ({ caller, input }) =>
  deleteFilter(caller, input.id),
);
