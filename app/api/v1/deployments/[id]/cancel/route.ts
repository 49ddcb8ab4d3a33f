import { z } from 'zod';
import { route } from '@/lib/api/route';
import { cancelDeployment } from '@/lib/deployments/control';

export const POST = route(
  {
    access: 'deployments.write',
    summary: 'Cancel a deployment: targets not sent yet are cancelled; a host mid-activation is not confirmed and rolls back',
    params: z.object({ id: z.uuid() }),
    response: z.object({ id: z.uuid(), status: z.string() }),
  },
  async ({ caller, params }) => cancelDeployment(caller, params.id),
);
