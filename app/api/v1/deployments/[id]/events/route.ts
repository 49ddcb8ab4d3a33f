import { z } from 'zod';
import { route } from '@/lib/api/route';
import { SSE_HEADERS } from '@/lib/api/sse';
import { deploymentEvents, getDeployment } from '@/lib/deployments/queries';

export const dynamic = 'force-dynamic';

export const GET = route(
  { access: 'fleet.read', summary: 'Live deployment status and target phases as Server-Sent Events', params: z.object({ id: z.uuid() }) },
  async ({ caller, params, req }) => {
    await getDeployment(caller, params.id);
    return new Response(deploymentEvents(caller, params.id, req.signal), { headers: SSE_HEADERS });
  },
);
