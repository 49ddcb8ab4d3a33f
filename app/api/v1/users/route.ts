import { z } from 'zod';
import { route } from '@/lib/api/route';
import { addMember, listMembers } from '@/lib/orgs/members';
import { ZCreatedUser, ZCreateUser, ZMember, ZPendingInvitation } from '@/lib/orgs/schemas';

export const GET = route(
  {
    access: 'users.read',
    summary: 'List the members and pending invitations of the organisation',
    response: z.object({ members: z.array(ZMember), invitations: z.array(ZPendingInvitation) }),
  },
  async ({ caller }) => listMembers(caller),
);

export const POST = route(
  {
    access: 'users.manage',
    summary: 'Add a member; without a password an invitation link is returned',
    body: ZCreateUser,
    response: ZCreatedUser,
    status: 201,
  },
  async ({ caller, body }) => addMember(caller, body),
);
