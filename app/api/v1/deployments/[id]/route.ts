import { z } from 'zod';
import { route } from '@/lib/api/route';
import { getDeployment } from '@/lib/deployments/queries';
import { ZDeploymentView } from '@/lib/deployments/schemas';

export const GET = route(
  { access: 'fleet.read', summary: 'A deployment and the phase of each of its targets', params: z.object({ id: z.uuid() }), response: ZDeploymentView },
  async ({ caller, params }) => getDeployment(caller, params.id),
);
