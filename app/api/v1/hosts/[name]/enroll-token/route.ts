import { z } from 'zod';
import { route } from '@/lib/api/route';
import { db } from '@/lib/db/client';
import { issueEnrollToken, revokeEnrollTokens } from '@/lib/hosts/enroll-tokens';
import { findHost } from '@/lib/hosts/inventory';
import { recordAudit } from '@/lib/audit/record';

const params = z.object({ name: z.string().max(63) });

export const POST = route(
  { access: 'hosts.write', summary: 'Issue a new one-time enroll token (any unused one stops working)', params, status: 201, response: z.object({ token: z.string(), expiresAt: z.string() }) },
  async ({ caller, params }) =>
    db().transaction(async (tx) => issueEnrollToken(tx, caller, await findHost(caller, params.name, tx))),
);

export const DELETE = route({ access: 'hosts.write', summary: "Revoke the host's unused enroll token", params, status: 204 }, async ({ caller, params }) => {
  await db().transaction(async (tx) => {
    const host = await findHost(caller, params.name, tx);
    const revoked = await revokeEnrollTokens(tx, host.id);
    if (revoked.length) await recordAudit(tx, caller, { action: 'host.enroll_token.revoke', objectType: 'host', objectId: host.id });
  });
  return new Response(null, { status: 204 });
});
