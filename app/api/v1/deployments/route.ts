import { z } from 'zod';
import { route } from '@/lib/api/route';
import { createDeployment } from '@/lib/deployments/create';
import { listDeployments, ZDeploymentListQuery, ZDeploymentSummary } from '@/lib/deployments/queries';
import { ZCreateDeployment } from '@/lib/deployments/schemas';
import { env } from '@/lib/env';

export const GET = route(
  {
    access: 'fleet.read',
    summary: 'Deployments, newest first: ?status= (active, succeeded, failed, halted, rolled-back, cancelled), ?limit= (at most 200), ?offset=',
    query: ZDeploymentListQuery,
    response: z.object({ deployments: z.array(ZDeploymentSummary), total: z.number().int() }),
  },
  async ({ caller, query }) => listDeployments(caller, query),
);

export const POST = route(
  {
    access: 'deployments.write',
    summary: 'Deploy closures to hosts (Cachix Deploy\'s deploy.json body: {"agents": {"host": "/nix/store/…"}})',
    body: ZCreateDeployment,
    // deploy.json names every host: ~100 bytes each, so 100,000 hosts fit.
    maxBodyBytes: 16 * 1024 * 1024,
    status: 201,
    response: z.object({ id: z.uuid(), url: z.string(), agents: z.record(z.string(), z.object({ id: z.uuid(), url: z.string() })) }),
  },
  async ({ caller, body }) => {
    const created = await createDeployment(caller, body, 'api');
    const url = `${env().publicUrl}/api/v1/deployments/${created.id}`;
    return {
      id: created.id,
      url,
      agents: Object.fromEntries(Object.entries(created.agents).map(([host, t]) => [host, { id: t.id, url }])),
    };
  },
);
