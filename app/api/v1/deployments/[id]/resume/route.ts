import { z } from 'zod';
import { route } from '@/lib/api/route';
import { resumeDeployment } from '@/lib/deployments/control';

export const POST = route(
  {
    access: 'deployments.write',
    summary: 'Resume a paused rollout where it stopped',
    params: z.object({ id: z.uuid() }),
    response: z.object({ id: z.uuid(), status: z.string() }),
  },
  async ({ caller, params }) => resumeDeployment(caller, params.id),
);
