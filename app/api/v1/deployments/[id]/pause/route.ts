import { z } from 'zod';
import { route } from '@/lib/api/route';
import { pauseDeployment } from '@/lib/deployments/control';

export const POST = route(
  {
    access: 'deployments.write',
    summary: 'Pause a rollout: nothing new starts, hosts already activating finish',
    params: z.object({ id: z.uuid() }),
    response: z.object({ id: z.uuid(), status: z.string() }),
  },
  async ({ caller, params }) => pauseDeployment(caller, params.id),
);
