'use server';

import { z } from 'zod';
import { action } from '@/lib/api/action';
import { createApiToken, revokeApiToken } from '@/lib/auth/api-tokens';
import { ZCreateToken } from '@/lib/auth/api-tokens.schemas';

const PAGE = ['/settings/tokens'];

export const createTokenAction = action({ access: 'tokens.own', input: ZCreateToken, revalidate: PAGE }, async ({ caller, input }) => createApiToken(caller, input));

export const revokeTokenAction = action({ access: 'tokens.own', input: z.strictObject({ tokenId: z.uuid() }), revalidate: PAGE }, async ({ caller, input }) =>
  revokeApiToken(caller, input.tokenId),
);
