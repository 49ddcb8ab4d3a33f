import { z } from 'zod';
import { route } from '@/lib/api/route';
import { revokeApiToken } from '@/lib/auth/api-tokens';
import { ZTokenSummary } from '@/lib/auth/api-tokens.schemas';

export const DELETE = route(
  { access: 'tokens.own', summary: 'Revoke an API token', params: z.object({ id: z.uuid() }), response: ZTokenSummary },
  async ({ caller, params }) => revokeApiToken(caller, params.id),
);
