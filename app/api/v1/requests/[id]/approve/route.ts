import { z } from 'zod';
import { route } from '@/lib/api/route';
import { APPROVE_ACCESS, approveRequest } from '@/lib/requests/review';
import { ZApprove } from '@/lib/requests/schemas';

export const POST = route(
  {
    access: APPROVE_ACCESS,
    summary: 'Approve a request, as asked or edited: a config version on behalf of the requester, built and deployed with the rollout defaults',
    params: z.object({ id: z.uuid() }),
    body: ZApprove,
    response: z.object({ id: z.uuid(), status: z.string(), configVersion: z.number().int(), deploymentId: z.uuid().nullable() }),
  },
  async ({ caller, params, body }) => approveRequest(caller, params.id, body),
);
