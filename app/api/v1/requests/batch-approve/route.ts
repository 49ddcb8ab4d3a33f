import { z } from 'zod';
import { route } from '@/lib/api/route';
import { APPROVE_ACCESS, approveMany } from '@/lib/requests/review';
import { ZBatchApprove } from '@/lib/requests/schemas';

export const POST = route(
  {
    access: APPROVE_ACCESS,
    summary: 'Approve several requests at once (e.g. one package for several hosts); each succeeds or fails on its own',
    body: ZBatchApprove,
    response: z.object({ results: z.array(z.object({ id: z.uuid(), status: z.string(), error: z.string().optional() })) }),
  },
  async ({ caller, body }) => approveMany(caller, body.ids, body.comment),
);
