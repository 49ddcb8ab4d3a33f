import { route } from '@/lib/api/route';
import { previewDeployment } from '@/lib/deployments/create';
import { ZCreateDeployment, ZWavePlan } from '@/lib/deployments/schemas';

export const POST = route(
  {
    access: 'deployments.write',
    summary: 'Plan a deployment without starting it: the strategy in force and the hosts of each wave',
    body: ZCreateDeployment,
    response: ZWavePlan,
  },
  async ({ caller, body }) => previewDeployment(caller, body),
);
