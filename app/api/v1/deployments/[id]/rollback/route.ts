import { z } from 'zod';
import { route } from '@/lib/api/route';
import { env } from '@/lib/env';
import { rollbackDeployment } from '@/lib/deployments/control';

export const POST = route(
  {
    access: 'deployments.write',
    summary: "Roll a whole deployment back: a new deployment returns every host it changed to the system it ran before",
    params: z.object({ id: z.uuid() }),
    status: 201,
    response: z.object({ id: z.uuid(), url: z.string(), agents: z.record(z.string(), z.object({ id: z.uuid() })) }),
  },
  async ({ caller, params }) => {
    const created = await rollbackDeployment(caller, params.id);
    return { ...created, url: `${env().publicUrl}/api/v1/deployments/${created.id}` };
  },
);
