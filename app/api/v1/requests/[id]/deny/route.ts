import { z } from 'zod';
import { route } from '@/lib/api/route';
import { denyRequest } from '@/lib/requests/review';
import { ZDeny } from '@/lib/requests/schemas';

export const POST = route(
  {
    access: 'requests.review',
    summary: 'Deny a request, telling the requester why; the host config is not touched',
    params: z.object({ id: z.uuid() }),
    body: ZDeny,
    response: z.object({ id: z.uuid(), status: z.string() }),
  },
  async ({ caller, params, body }) => denyRequest(caller, params.id, body.comment),
);
