'use server';

import { z } from 'zod';
import { action } from '@/lib/api/action';
import { createApiToken, revokeApiToken } from '@/lib/auth/api-tokens';
import { ZCreateToken } from '@/lib/auth/api-tokens.schemas';

const PAGE = ['/settings/tokens'];

/** The form sends the tag limit as one comma-separated field; the API takes a list. */
const ZCreateTokenForm = z.preprocess((raw) => {
  if (typeof raw !== 'object' || raw === null || !('hostTags' in raw) || typeof raw.hostTags !== 'string') return raw;
  const tags = raw.hostTags.split(',').map((t) => t.trim()).filter(Boolean);
  return { ...raw, hostTags: tags.length ? tags : undefined };
}, ZCreateToken);

export const createTokenAction = action({ access: 'tokens.own', input: ZCreateTokenForm, revalidate: PAGE }, async ({ caller, input }) => createApiToken(caller, input));

export const revokeTokenAction = action({ access: 'tokens.own', input: z.strictObject({ tokenId: z.uuid() }), revalidate: PAGE }, async ({ caller, input }) =>
  revokeApiToken(caller, input.tokenId),
);
