import { z } from 'zod';
import { route } from '@/lib/api/route';
import { createApiToken, listApiTokens } from '@/lib/auth/api-tokens';
import { ZCreatedToken, ZCreateToken, ZTokenSummary } from '@/lib/auth/api-tokens.schemas';

export const GET = route(
  { access: 'tokens.own', summary: 'List your API tokens in this organisation', response: z.object({ tokens: z.array(ZTokenSummary) }) },
  async ({ caller }) => ({ tokens: await listApiTokens(caller) }),
);

export const POST = route(
  {
    access: 'tokens.own',
    summary: 'Create an API token (the secret is in this response only)',
    body: ZCreateToken,
    response: ZCreatedToken,
    status: 201,
    allowBasic: true,
  },
  async ({ caller, body }) => createApiToken(caller, body),
);
