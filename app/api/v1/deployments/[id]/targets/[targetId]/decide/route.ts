import { z } from 'zod';
import { route } from '@/lib/api/route';
import { decideTarget, ZDecide } from '@/lib/deployments/decide';

export const POST = route(
  {
    access: 'deployments.write',
    summary: "Choose a resolution for each blocking pre-switch check item of a target (item id → resolution id; \"abort\" keeps the host's current system)",
    params: z.object({ id: z.uuid(), targetId: z.uuid() }),
    body: ZDecide,
  },
  async ({ caller, params, body }) => decideTarget(caller, params.id, params.targetId, body.choices),
);
