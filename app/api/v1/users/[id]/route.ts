import { z } from 'zod';
import { route } from '@/lib/api/route';
import { changeRole, removeMember } from '@/lib/orgs/members';
import { ZChangeRole, ZRole } from '@/lib/orgs/schemas';

const params = z.object({ id: z.uuid() });

export const PATCH = route(
  { access: 'users.manage', summary: "Change a member's role", params, body: ZChangeRole, response: z.object({ id: z.uuid(), role: ZRole }) },
  async ({ caller, params, body }) => changeRole(caller, params.id, body.role),
);

export const DELETE = route(
  { access: 'users.manage', summary: 'Remove a member from the organisation (their API tokens are revoked)', params, status: 204 },
  async ({ caller, params }) => {
    await removeMember(caller, params.id);
    return new Response(null, { status: 204 });
  },
);
