'use server';

// The decisions inbox's side of lib/deployments/decide.ts: the same operation as
// POST /api/v1/deployments/:id/targets/:targetId/decide, guarded the same way.
import { z } from 'zod';
import { action } from '@/lib/api/action';
import { decideTarget, ZDecide } from '@/lib/deployments/decide';

export const decideTargetAction = action(
  { access: 'deployments.write', input: ZDecide.extend({ deploymentId: z.uuid(), targetId: z.uuid() }), revalidate: ['/decisions'] },
  async ({ caller, input }) => decideTarget(caller, input.deploymentId, input.targetId, input.choices),
);
