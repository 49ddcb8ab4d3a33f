import { z } from 'zod';
import { route } from '@/lib/api/route';
import { db } from '@/lib/db/client';
import { issueEnrollToken, revokeEnrollTokens } from '@/lib/hosts/enroll-tokens';
import { recordAudit } from '@/lib/audit/record';

const params = z.object({ name: z.string().max(63) });

export const POST = route(
  { access: 'hosts.write', summary: 'Issue a new one-time enroll token (any unused one stops working)', params, host: 'name', status: 201, response: z.object({ token: z.string(), expiresAt: z.string() }) },
  async ({ caller, host }) => db().transaction(async (tx) => issueEnrollToken(tx, caller, host)),
);

export const DELETE = route({ access: 'hosts.write', summary: "Revoke the host's unused enroll token", params, host: 'name', status: 204 }, async ({ caller, host }) => {
  await db().transaction(async (tx) => {
    const revoked = await revokeEnrollTokens(tx, host.id);
    if (revoked.length) await recordAudit(tx, caller, { action: 'host.enroll_token.revoke', objectType: 'host', objectId: host.id });
  });
  return new Response(null, { status: 204 });
});
