'use server';

import { z } from 'zod';
import { action } from '@/lib/api/action';
import { addMember, changeRole, removeMember, revokeInvitation } from '@/lib/orgs/members';
import { ZCreateUser, ZRole } from '@/lib/orgs/schemas';

const PAGE = ['/settings/users'];

export const addMemberAction = action({ access: 'users.manage', input: ZCreateUser, revalidate: PAGE }, async ({ caller, input }) => addMember(caller, input));

export const changeRoleAction = action(
  { access: 'users.manage', input: z.strictObject({ userId: z.uuid(), role: ZRole }), revalidate: PAGE },
  async ({ caller, input }) => changeRole(caller, input.userId, input.role),
);

export const removeMemberAction = action({ access: 'users.manage', input: z.strictObject({ userId: z.uuid() }), revalidate: PAGE }, async ({ caller, input }) => {
  await removeMember(caller, input.userId);
  return { userId: input.userId };
});

export const revokeInvitationAction = action(
  { access: 'users.manage', input: z.strictObject({ invitationId: z.uuid() }), revalidate: PAGE },
  async ({ caller, input }) => {
    await revokeInvitation(caller, input.invitationId);
    return { invitationId: input.invitationId };
  },
);
