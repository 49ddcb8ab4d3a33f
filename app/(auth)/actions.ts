'use server';

import { headers } from 'next/headers';
import { action } from '@/lib/api/action';
import { requestClientAddress } from '@/lib/auth/limiter/client-address';
import { acceptInvitation } from '@/lib/orgs/accept-invitation';
import { setupInstance } from '@/lib/orgs/first-admin';
import { ZAcceptInvitation, ZSetupInstance } from '@/lib/orgs/schemas';

export const setupInstanceAction = action({ access: 'public', input: ZSetupInstance }, async ({ input }) => {
  const ip = requestClientAddress(await headers());
  await setupInstance(input, 'setup-page', ip);
  return { email: input.email };
});

export const acceptInvitationAction = action({ access: 'public', input: ZAcceptInvitation }, async ({ input }) => acceptInvitation(input));
