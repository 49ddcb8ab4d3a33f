import { z } from 'zod';
import { route } from '@/lib/api/route';
import { commentOnRequest } from '@/lib/requests/review';
import { ZComment } from '@/lib/requests/schemas';

export const POST = route(
  {
    access: 'authenticated',
    summary: 'Comment on a request (its requester and reviewers): a question, an answer',
    params: z.object({ id: z.uuid() }),
    body: ZComment,
    status: 201,
    response: z.object({ id: z.uuid() }),
  },
  async ({ caller, params, body }) => commentOnRequest(caller, params.id, body.body),
);
