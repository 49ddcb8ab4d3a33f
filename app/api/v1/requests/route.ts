import { z } from 'zod';
import { route } from '@/lib/api/route';
import { listRequests } from '@/lib/requests/queries';
import { ZCreateRequest, ZRequestListQuery, ZRequestView } from '@/lib/requests/schemas';
import { submitRequest } from '@/lib/requests/submit';

export const GET = route(
  {
    access: 'authenticated',
    summary: "Self-service requests: the organisation's for reviewers and viewers, your own for requesters",
    query: ZRequestListQuery,
    response: z.object({ requests: z.array(ZRequestView) }),
  },
  async ({ caller, query }) => ({ requests: await listRequests(caller, query) }),
);

export const POST = route(
  {
    access: 'requests.create',
    summary: 'Ask for a package to be installed or removed, or for a change in words, on a host assigned to you',
    body: ZCreateRequest,
    status: 201,
    response: z.object({ id: z.uuid(), autoApproved: z.boolean() }),
  },
  async ({ caller, body }) => submitRequest(caller, body),
);
